import type { ChannelError, CommandAction } from './eventMessages.js';

/** A command from the control plane, as the handler gets it. */
export interface ChannelCommand {
  id: string;
  callId: string;
  action: CommandAction;
  /** The action's own fields (for `update`, the PATCH body: status, callFlow). */
  params: Record<string, unknown>;
}

export type CommandOutcome = { ok: true; result?: unknown } | { ok: false; error: ChannelError };

/**
 * What runs a command. The call layer implements it with the same code as the REST routes, so
 * a command and its REST request succeed or fail alike; errors use the REST error JSON
 * (`ApiError.toBody().error`). A thrown ApiError is answered as its body; anything else thrown is
 * an `internal` error.
 */
export interface CommandHandler {
  handle(command: ChannelCommand): Promise<CommandOutcome>;
}

/**
 * The handler while this gateway has no call layer to run commands: every command is answered
 * as not implemented, naming the action, so a control plane never mistakes it for success.
 */
export class NotImplementedCommandHandler implements CommandHandler {
  async handle(command: ChannelCommand): Promise<CommandOutcome> {
    return {
      ok: false,
      error: {
        code: 'not_implemented',
        message: `command "${command.action}" is not implemented by this gateway yet (no call handling)`,
      },
    };
  }
}
