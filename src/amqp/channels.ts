import type { Channel, ChannelModel } from 'amqplib';
import type { Logger } from '../logger';
import type { AmqpClient } from './connection';

/** One channel kept open across reconnects. */
export type KeptChannel<C extends Channel> = {
  /** The open channel, or null while the broker is away. */
  current(): C | null;
  /** Closes the channel and stops reopening it. */
  close(): Promise<void>;
};

const REOPEN_DELAY_MS = 500;

/**
 * Opens a channel on every connect (running `init` on it: prefetch, consume, …) and reopens it when
 * the broker closes the channel alone while the connection lives on. Every channel gets error
 * listeners, so a channel-level error never crashes the process.
 */
export async function keepChannel<C extends Channel>(
  amqp: AmqpClient,
  log: Logger,
  open: (model: ChannelModel) => Promise<C>,
  init: (channel: C) => Promise<void>,
): Promise<KeptChannel<C>> {
  let channel: C | null = null;
  let closing = false;

  const attach = async (model: ChannelModel): Promise<void> => {
    if (closing) return;
    const opened = await open(model);
    opened.on('error', (error: Error) => log.warn({ err: error }, 'channel error'));
    opened.on('handler-error', (error: Error, event: string) => log.error({ err: error, event }, 'channel listener threw'));
    opened.on('close', () => {
      if (channel === opened) channel = null;
      if (closing || !amqp.isConnected()) return;
      // the connection is still up, so only this channel died (a channel-level error): open another
      setTimeout(() => {
        if (closing || channel !== null) return;
        attach(model).catch((error: unknown) => log.warn({ err: error }, 'could not reopen channel; waiting for reconnect'));
      }, REOPEN_DELAY_MS).unref();
    });
    await init(opened);
    channel = opened;
  };

  await amqp.onConnect(attach);
  return {
    current: () => channel,
    async close() {
      closing = true;
      const open = channel;
      channel = null;
      await open?.close().catch(() => {});
    },
  };
}
