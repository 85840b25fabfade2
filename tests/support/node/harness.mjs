// What the Node tests (tests/webui, tests/clients) share: their --key value
// arguments, a check() that counts and prints each passed check, and
// `hy2bit serve` started on a free loopback port.
import { spawn } from 'node:child_process';

// Parses `--key value` pairs: only `known` keys, every `required` one present.
export function parseArgs(argv, known, required, defaults = {}) {
  const args = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!known.includes(key) || i + 1 >= argv.length) throw new Error(`unknown or incomplete argument '${argv[i]}'`);
    args[key] = argv[i + 1];
  }
  for (const key of required)
    if (!args[key]) throw new Error(`--${key} is required`);
  return args;
}

let passed = 0;
const t0 = Date.now();
// Throws on a failed check; prints each passed one with the seconds since start.
export function check(condition, what, detail = '') {
  if (!condition) throw new Error(`FAILED: ${what}${detail ? ` (${detail})` : ''}`);
  passed += 1;
  console.log(`ok ${passed} - ${what} [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
}
export function passedChecks() {
  return passed;
}

// `hy2bit serve -m MODEL` on port 0 with `extra` flags; resolves with
// {port, process} once it prints its address.
export function startServe(hy2bit, model, extra) {
  const child = spawn(hy2bit, ['serve', '-m', model, '--port', '0', '-t', '1', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`hy2bit serve printed no address in 30 s: ${stderr}`)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), process: child });
      }
    });
    child.on('exit', (code) => reject(new Error(`hy2bit serve exited with ${code}: ${stderr}`)));
  });
}
