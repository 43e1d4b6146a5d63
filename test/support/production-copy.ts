/**
 * A copy of the project as a server gets it: the sources, the model and the lockfile, with
 * node_modules pruned to the production dependencies (`npm prune --omit=dev`), and the built
 * page only when asked. node_modules is copied as hard links (fast, no extra space); npm
 * prune only unlinks, so the original stays intact, and the one file npm rewrites
 * (node_modules/.package-lock.json) is a real copy.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface ProductionCopy {
  readonly dir: string;
  /** Copies the built page (dist/web, which must exist) into the copy. */
  addBuiltPage(): void;
  remove(): void;
}

export async function productionCopy(): Promise<ProductionCopy> {
  const dir = mkdtempSync(join(tmpdir(), 'digits-prod-'));
  try {
    for (const name of ['package.json', 'package-lock.json']) {
      copyFileSync(join(REPO, name), join(dir, name));
    }
    for (const name of ['src', 'models'])
      cpSync(join(REPO, name), join(dir, name), { recursive: true });
    // A worktree's node_modules may be a link to another checkout's: copied as a link, the
    // unlink and the prune below would reach through it into the shared folder.
    const modules = realpathSync(join(REPO, 'node_modules'));
    try {
      await run('cp', ['-al', modules, join(dir, 'node_modules')]);
    } catch {
      // Another file system: hard links are impossible, copy instead.
      await run('cp', ['-a', modules, join(dir, 'node_modules')]);
    }
    const hiddenLock = join(dir, 'node_modules', '.package-lock.json');
    if (existsSync(hiddenLock)) {
      unlinkSync(hiddenLock);
      copyFileSync(join(REPO, 'node_modules', '.package-lock.json'), hiddenLock);
    }
    await run('npm', ['prune', '--omit=dev', '--no-audit', '--no-fund', '--offline'], { cwd: dir });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    addBuiltPage: () => {
      const page = join(REPO, 'dist', 'web');
      if (!existsSync(join(page, 'index.html')))
        throw new Error('dist/web is not built: npm run build');
      cpSync(page, join(dir, 'dist', 'web'), { recursive: true });
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
