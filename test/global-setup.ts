import { execFileSync } from 'node:child_process';

/** CLI and package tests run the built CLI: build once, before any test file runs. */
export default function setup(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}
