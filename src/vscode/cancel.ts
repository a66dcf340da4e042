import * as vscode from 'vscode';

/** Core calls take an AbortSignal (no vscode types in src/core); the editor cancels with a CancellationToken. */
export function signalOf(token: vscode.CancellationToken): AbortSignal {
  const ctl = new AbortController();
  if (token.isCancellationRequested) ctl.abort();
  else token.onCancellationRequested(() => ctl.abort());
  return ctl.signal;
}

/** Long work in a notification with a Cancel button; the core call gets the signal and a progress callback. */
export function withFarmProgress<T>(title: string, work: (signal: AbortSignal, report: (message: string, increment?: number) => void) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) =>
    work(signalOf(token), (message, increment) => progress.report({ message, increment })));
}
