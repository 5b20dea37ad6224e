import {
  ApplicationCommandType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  type API,
  type APIChatInputApplicationCommandInteractionData,
  type APIInteraction,
  type APIInteractionResponse,
  type APIInteractionResponseCallbackData,
  type APIMessageComponentInteraction,
} from '@discordjs/core/http-only';
import type { RawFile } from '@discordjs/rest';
import type { Logger } from 'pino';
import { parseCommand } from '../../framework/parse-command.js';
import type { Pipeline } from '../../framework/pipeline.js';
import type { Reply } from '../../framework/reply.js';
import { ROOT_COMMAND } from './build-discord-commands.js';
import { interactionToInvocation, interactionUser } from './interaction-to-invocation.js';
import { focusedOption, interactionToText } from './interaction-to-text.js';
import { BUTTON_PREFIX, isEphemeralReply, renderDiscordReply, replyFlags, type DiscordMessage } from './render-discord-reply.js';
import { safeError } from './safe-error.js';

/** Sends the one initial response Discord waits for: a REST callback (gateway) or the HTTP response body. */
export interface InteractionResponder {
  respond(body: APIInteractionResponse, files?: RawFile[]): Promise<void>;
}

export interface InteractionHandlerDeps {
  pipeline: Pipeline;
  /** REST API for follow-ups and `@original` edits (webhook calls authorised by the interaction token). */
  api: API;
  log: Logger;
  /**
   * Discord drops interactions not answered within 3 s. Replies slower than this are deferred and delivered
   * by editing `@original`; 0 defers every interaction.
   */
  deferAfterMs?: number;
}

export type InteractionHandler = (interaction: APIInteraction, responder: InteractionResponder) => Promise<void>;

export const DEFAULT_DEFER_AFTER_MS = 2000;
const AUTOCOMPLETE_LIMIT = 25;

const body = (m: DiscordMessage, flags = 0): APIInteractionResponseCallbackData => ({
  ...(m.content ? { content: m.content } : {}),
  embeds: m.embeds,
  components: m.components,
  allowed_mentions: m.allowed_mentions,
  ...(flags ? { flags } : {}),
});

const notice = (content: string): APIInteractionResponse => ({
  type: InteractionResponseType.ChannelMessageWithSource,
  data: { content, flags: MessageFlags.Ephemeral, allowed_mentions: { parse: [] } },
});

/** What a private confirmation prompt turns into once its result is posted in the channel: no buttons left. */
const PUBLISHED_NOTE: DiscordMessage = { content: '✅ Confirmed — posted in the channel.', embeds: [], components: [], files: [], allowed_mentions: { parse: [] } };

/** Says who confirmed above a result posted in the channel; the mention is built here and pings nobody. */
function attributed(messages: DiscordMessage[], i: APIInteraction): DiscordMessage[] {
  const user = interactionUser(i);
  if (!user) return messages;
  const [first, ...rest] = messages;
  return [{ ...first!, content: `Confirmed by <@${user.id}>` }, ...rest];
}

/** The reply, or undefined if it is not ready within `ms`. */
async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  if (ms <= 0) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The one handler behind both ways in (gateway and HTTP endpoint): maps an interaction to an Invocation,
 * runs it through the pipeline and answers within Discord's 3 s, deferring when the pipeline is slow.
 */
export function createInteractionHandler(deps: InteractionHandlerDeps): InteractionHandler {
  const { pipeline, api, log } = deps;
  const registry = pipeline.registry;
  const deferAfterMs = deps.deferAfterMs ?? DEFAULT_DEFER_AFTER_MS;

  /** Whether a slow command will most likely answer in channel, so its "thinking…" message can be public. */
  function likelyPublic(text: string): boolean {
    try {
      const parsed = parseCommand(registry, text, 'discord');
      return parsed.kind === 'command' && Boolean(parsed.sub.mutates) && !parsed.sub.dangerous?.(parsed.args);
    } catch {
      return false;
    }
  }

  async function followUps(i: APIInteraction, messages: DiscordMessage[], flags: number) {
    for (const m of messages) {
      await api.interactions.followUp(i.application_id, i.token, { ...body(m, flags), files: m.files });
    }
  }

  async function editOriginal(i: APIInteraction, m: DiscordMessage) {
    await api.interactions.editReply(i.application_id, i.token, { ...body(m), files: m.files }, '@original');
  }

  /** Delivers a reply after a deferred "thinking…" response whose visibility was guessed before the outcome was known. */
  async function deliverDeferred(i: APIInteraction, reply: Reply, deferredEphemeral: boolean) {
    const messages = renderDiscordReply(reply);
    const flags = replyFlags(reply);
    if (isEphemeralReply(reply) === deferredEphemeral) {
      await editOriginal(i, messages[0]!);
      await followUps(i, messages.slice(1), flags);
    } else if (deferredEphemeral) {
      // Only the caller saw "thinking…"; the team gets the reply as a public follow-up.
      await api.interactions.editReply(i.application_id, i.token, { content: 'Done: the reply is posted in the channel.', embeds: [] }, '@original');
      await followUps(i, messages, flags);
    } else {
      // The public placeholder must not show a denial or an error: resolve it, answer privately, then remove it.
      await api.interactions.editReply(i.application_id, i.token, { content: 'Reply sent privately.', embeds: [] }, '@original');
      await followUps(i, messages, flags);
      await api.interactions.deleteReply(i.application_id, i.token, '@original');
    }
  }

  async function onCommand(i: APIInteraction & { type: InteractionType.ApplicationCommand }, r: InteractionResponder) {
    const data = i.data;
    if (data.type !== ApplicationCommandType.ChatInput || (data.name !== ROOT_COMMAND && !data.name.startsWith(`${ROOT_COMMAND}-`))) {
      return r.respond(notice(`This bot only answers /${ROOT_COMMAND}.`));
    }
    const text = interactionToText(registry, data as APIChatInputApplicationCommandInteractionData);
    if (text === undefined) {
      log.warn({ interaction: i.id, command: data.options?.[0]?.name }, 'interaction names a command this version does not know; re-register');
      return r.respond(notice('This command is out of date. Ask an admin to run `infrabot discord register`.'));
    }
    const work = pipeline.handle(interactionToInvocation(i, text));
    const early = await within(work, deferAfterMs);
    if (early) {
      const messages = renderDiscordReply(early);
      const flags = replyFlags(early);
      await r.respond({ type: InteractionResponseType.ChannelMessageWithSource, data: body(messages[0]!, flags) }, messages[0]!.files);
      return followUps(i, messages.slice(1), flags);
    }
    const deferredEphemeral = !likelyPublic(text);
    await r.respond({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      ...(deferredEphemeral ? { data: { flags: MessageFlags.Ephemeral } } : {}),
    });
    await deliverDeferred(i, await work, deferredEphemeral);
  }

  /**
   * A click's reply. Whatever the pipeline answers is rendered as is (a result, "Cancelled", a refusal);
   * button labels mean nothing here. Where it goes depends on the reply's visibility and the clicked message:
   * - a private reply on a shared message is a new ephemeral message (it must not replace what the channel sees);
   * - a channel reply on a private prompt (a confirmed action) cannot become public in place: the prompt is
   *   resolved with a short note and the reply is posted in the channel as a public follow-up;
   * - otherwise the clicked message is updated in place.
   */
  async function onComponent(i: APIMessageComponentInteraction, r: InteractionResponder) {
    const customId = i.data.custom_id;
    if (!customId.startsWith(BUTTON_PREFIX)) return r.respond({ type: InteractionResponseType.DeferredMessageUpdate });
    const { text: _text, ...invocation } = interactionToInvocation(i, '');
    // The clicker runs the stored action; the pipeline re-authorises and audits it.
    const work = pipeline.handleAction(customId.slice(BUTTON_PREFIX.length), invocation);
    const onPrivateMessage = ((i.message.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
    const route = (reply: Reply) =>
      isEphemeralReply(reply) ? (onPrivateMessage ? 'update' : 'private') : onPrivateMessage ? 'publish' : 'update';
    const early = await within(work, deferAfterMs);
    if (early) {
      const messages = renderDiscordReply(early);
      const flags = replyFlags(early);
      switch (route(early)) {
        case 'private':
          await r.respond({ type: InteractionResponseType.ChannelMessageWithSource, data: body(messages[0]!, flags) }, messages[0]!.files);
          return followUps(i, messages.slice(1), flags);
        case 'publish':
          await r.respond({ type: InteractionResponseType.UpdateMessage, data: body(PUBLISHED_NOTE) });
          return followUps(i, attributed(messages, i), 0);
        case 'update':
          await r.respond({ type: InteractionResponseType.UpdateMessage, data: body(messages[0]!) }, messages[0]!.files);
          return followUps(i, messages.slice(1), flags);
      }
    }
    await r.respond({ type: InteractionResponseType.DeferredMessageUpdate });
    const reply = await work;
    const messages = renderDiscordReply(reply);
    const flags = replyFlags(reply);
    switch (route(reply)) {
      case 'private':
        return followUps(i, messages, flags);
      case 'publish':
        await editOriginal(i, PUBLISHED_NOTE);
        return followUps(i, attributed(messages, i), 0);
      case 'update':
        await editOriginal(i, messages[0]!);
        return followUps(i, messages.slice(1), flags);
    }
  }

  /** Suggestions come from the pipeline, which decides what this user may see. */
  async function onAutocomplete(i: APIInteraction & { type: InteractionType.ApplicationCommandAutocomplete }, r: InteractionResponder) {
    const focused = focusedOption(registry, i.data as APIChatInputApplicationCommandInteractionData);
    const names = focused?.descriptor
      ? (await pipeline.suggest(interactionToInvocation(i, '').user, focused.descriptor, focused.value)).slice(0, AUTOCOMPLETE_LIMIT)
      : [];
    await r.respond({
      type: InteractionResponseType.ApplicationCommandAutocompleteResult,
      data: { choices: names.map((n) => ({ name: n, value: n })) },
    });
  }

  return async function handle(interaction, responder) {
    let responded = false;
    const r: InteractionResponder = {
      respond: async (b, files) => {
        responded = true;
        await responder.respond(b, files);
      },
    };
    try {
      switch (interaction.type) {
        case InteractionType.Ping:
          return await r.respond({ type: InteractionResponseType.Pong });
        case InteractionType.ApplicationCommand:
          return await onCommand(interaction, r);
        case InteractionType.MessageComponent:
          return await onComponent(interaction, r);
        case InteractionType.ApplicationCommandAutocomplete:
          return await onAutocomplete(interaction, r);
        default:
          return await r.respond(notice('infrabot does not handle this kind of interaction.'));
      }
    } catch (err) {
      log.error({ error: safeError(err), interaction: interaction.id, type: interaction.type }, 'discord interaction failed');
      if (!responded && interaction.type !== InteractionType.Ping && interaction.type !== InteractionType.ApplicationCommandAutocomplete) {
        await r.respond(notice('Something went wrong delivering this reply; nothing more was changed.')).catch(() => undefined);
      }
    }
  };
}
