/** Replaces every configured secret value (at least 4 characters, so "1" does not blank the output) with ***. */
export function redactor(secretNames: readonly string[], env: NodeJS.ProcessEnv): (text: string) => string {
  const values = secretNames
    .map((n) => env[n])
    .filter((v): v is string => typeof v === 'string' && v.length >= 4)
    .sort((a, b) => b.length - a.length);
  if (values.length === 0) return (t) => t;
  return (text) => values.reduce((t, v) => t.split(v).join('***'), text);
}
