/** Block Kit limits (docs.slack.dev, "Block Kit reference"); the renderer splits output to stay inside them. */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  headerText: 150,
  fieldsPerSection: 10,
  fieldText: 2000,
  contextElements: 10,
  buttonsPerActions: 25,
  buttonText: 75,
  buttonValue: 2000,
  /** Our own budget per message so a page stays readable and well under Slack's message size limits. */
  charsPerPage: 12_000,
  /** More pages than this go to a file instead (response_url allows 5 posts; keep one spare). */
  maxPages: 4,
} as const;
