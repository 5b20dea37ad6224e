import type { webApi } from '@slack/bolt';
import type { SlackFile } from './prepare-slack-reply.js';

export interface FileDestination {
  channel: string;
  threadTs?: string;
  /** Ephemeral replies must not leak into the channel: their files go to the user's DM with the bot. */
  visibility: 'ephemeral' | 'channel';
  /** Slack user id (U…) of the person who asked. */
  userId: string;
}

/**
 * Shares files with `files.uploadV2` (files.getUploadURLExternal → upload → files.completeUploadExternal).
 * Returns a line to show the user when the files could not be shared, so a failure is never silent.
 */
export async function shareSlackFiles(client: webApi.WebClient, files: SlackFile[], to: FileDestination): Promise<string | undefined> {
  if (files.length === 0) return undefined;
  try {
    let channel = to.channel;
    let threadTs = to.threadTs;
    if (to.visibility === 'ephemeral') {
      const dm = await client.conversations.open({ users: to.userId });
      channel = dm.channel?.id ?? to.userId;
      threadTs = undefined;
    }
    await client.filesUploadV2({
      channel_id: channel,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      file_uploads: files.map((f) => ({ filename: f.filename, title: f.title, ...(typeof f.content === 'string' ? { content: f.content } : { file: f.content }) })),
    });
    return undefined;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return `:x: Could not attach ${files.map((f) => f.filename).join(', ')} (${why}). Narrow the command (e.g. --limit) to see the output in chat.`;
  }
}
