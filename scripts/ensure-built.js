// `npm start` runs the built app; build first when dist/ is missing or older than the sources,
// so that `npm ci && npm start` works on a fresh clone.
const { existsSync, statSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { execSync } = require('node:child_process');

const root = join(__dirname, '..');
const entry = join(root, 'dist/apps/store/src/main.js');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (/\.tsx?$/.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const sources = Math.max(...['apps', 'libs', 'migrations'].map((d) => newest(join(root, d))));
if (!existsSync(entry) || statSync(entry).mtimeMs < sources) {
  process.stderr.write('berth: building (first start or sources changed)...\n');
  execSync('npm run -s build', { cwd: root, stdio: 'inherit' });
}
