import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkOut, migrationsOf, repoRoot } from '../../bench/infra';

const worktrees = () => execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd: repoRoot, encoding: 'utf8' });

describe('the checkout of another revision (bench --against)', () => {
  it("checks the revision out beside this one with this one's packages, and removes it again", () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-checkout-'));
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const other = checkOut('HEAD', parent);
    try {
      expect(other.commit).toBe(head);
      expect(fs.existsSync(path.join(other.root, 'src', 'main.ts'))).toBe(true);
      expect(fs.realpathSync(path.join(other.root, 'node_modules'))).toBe(fs.realpathSync(path.join(repoRoot, 'node_modules')));
      expect(migrationsOf(other.root)).toBe(path.join(other.root, 'drizzle'));
      expect(fs.readdirSync(migrationsOf(other.root))).toContain('meta');
      expect(worktrees()).toContain(other.root);
    } finally {
      other.remove();
    }
    expect(fs.existsSync(other.root)).toBe(false);
    expect(worktrees()).not.toContain(other.root);
  });

  it('refuses a revision that names no commit', () => {
    expect(() => checkOut('no-such-revision-anywhere', os.tmpdir())).toThrow();
  });
});
