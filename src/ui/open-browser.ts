// Opens a URL in the user's browser, as `argocd admin dashboard` and `jupyter` do: `open` on macOS, `xdg-open`
// elsewhere. A machine with neither (a server over ssh) is no error: the URL is printed anyway.
import { spawn } from 'node:child_process';

export const openerFor = (platform: NodeJS.Platform): string => (platform === 'darwin' ? 'open' : platform === 'win32' ? 'explorer' : 'xdg-open');

/** Resolves true when the opener started, false when it could not. Never rejects. */
export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      // No shell: the URL is one argument, never parsed as a command.
      const child = spawn(openerFor(platform), [url], { stdio: 'ignore', detached: true });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
