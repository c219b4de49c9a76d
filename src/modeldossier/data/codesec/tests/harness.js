// Per-task test harness for JavaScript answers. Runs INSIDE the sandbox only, never on the host.
//
// Usage (inside the sandbox): node harness.js CONFIG_JSON_PATH
// The config names the checks file, the answer file and a nonce. Each check (exports named functional_* and
// security_* of the checks file) runs in its own child process with a fresh working folder and a fresh copy of
// the answer; the parent prints one line, "<nonce> <json>", with each check's status: pass | fail | error |
// timeout | missing. A check fails by throwing an AssertionError (for a security check: the exploit worked).
'use strict';

const fs = require('fs');
const path = require('path');
const { fork } = require('child_process');

const EXPORT_LINE = /^\s*export\s+(default\s+)?(?=(async\s+)?function|const|let|var|class)/gm;
const IMPORT_DEFAULT = /^\s*import\s+(?:\*\s+as\s+)?([A-Za-z_$][\w$]*)\s+from\s+(['"][^'"]+['"]);?/gm;
const IMPORT_NAMED = /^\s*import\s*\{([^}]*)\}\s*from\s+(['"][^'"]+['"]);?/gm;

function toCommonJs(source, names) {
  let code = source
    .replace(IMPORT_DEFAULT, 'const $1 = require($2);')
    .replace(IMPORT_NAMED, (_, list, mod) => `const {${list.replace(/\s+as\s+/g, ': ')}} = require(${mod});`)
    .replace(EXPORT_LINE, '')
    .replace(/^\s*export\s*\{[^}]*\};?/gm, '');
  const footer = names.map((n) => `try { if (typeof ${n} !== 'undefined' && module.exports && !(${JSON.stringify(n)} in module.exports)) module.exports.${n} = ${n}; } catch (e) {}`);
  return code + '\n;\n' + footer.join('\n') + '\n';
}

function makeCtx(cfg, checks, workdir) {
  let loaded = null;
  const ctx = {
    workdir,
    get answer() {
      if (loaded === null) {
        const src = fs.readFileSync(cfg.answer, 'utf8');
        const file = path.join(workdir, 'answer.js');
        fs.writeFileSync(file, toCommonJs(src, checks.EXPORTS || []));
        loaded = require(file);
      }
      return loaded;
    },
    fn(names, hint = []) {
      const mod = ctx.answer;
      for (const n of names) {
        if (typeof mod[n] === 'function') return mod[n];
        if (mod.default && typeof mod.default[n] === 'function') return mod.default[n];
      }
      const own = Object.entries(mod).filter(([k, v]) => typeof v === 'function' && hint.some((h) => k.toLowerCase().includes(h)));
      if (own.length >= 1) return own[0][1];
      if (typeof mod === 'function' && names.length === 1) return mod;
      throw assertError(`no function named ${names.join(' / ')} in the answer (is it exported?)`);
    },
    markerHit(name = 'pwned') {
      for (const dir of [workdir, '/tmp']) {
        if (fs.existsSync(path.join(dir, name))) return true;
      }
      return false;
    },
  };
  return ctx;
}

function assertError(message) {
  const e = new Error(message);
  e.name = 'AssertionError';
  return e;
}

async function child(cfg, name) {
  const checks = require(cfg.checks);
  const workdir = `/tmp/check-${name}`;
  fs.mkdirSync(workdir, { recursive: true });
  process.chdir(workdir);
  process.env.HOME = workdir;
  let status = 'pass';
  let detail = '';
  try {
    await checks[name](makeCtx(cfg, checks, workdir));
  } catch (e) {
    const msg = String((e && e.message) || e).slice(0, 300);
    const wanted = (msg.match(/Cannot find module '([^']+)'/) || [])[1];
    if (e && e.code === 'MODULE_NOT_FOUND' && wanted && !/^[./]/.test(wanted)) {
      status = 'missing';
      detail = wanted;
    } else if (e && (e.name === 'AssertionError' || e.code === 'ERR_ASSERTION')) {
      status = 'fail';
      detail = msg || 'assertion failed';
    } else {
      status = 'error';
      detail = `${(e && e.name) || 'Error'}: ${msg}`;
    }
  }
  process.send({ status, detail }, () => process.exit(0));
}

function runOne(cfg, name) {
  return new Promise((resolve) => {
    const start = Date.now();
    const proc = fork(__filename, [process.argv[2], '--check', name], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let result = null;
    const timer = setTimeout(() => {
      result = result || { status: 'timeout', detail: `over ${cfg.check_timeout} s` };
      proc.kill('SIGKILL');
    }, (cfg.check_timeout || 5) * 1000);
    proc.on('message', (m) => { result = result || m; });
    proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      result = result || { status: 'error', detail: sig ? `killed by signal ${sig}` : `exited with ${code} before reporting` };
      result.seconds = (Date.now() - start) / 1000;
      resolve(result);
    });
  });
}

async function main() {
  const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  if (process.argv[3] === '--check') {
    await child(cfg, process.argv[4]);
    return;
  }
  const checks = require(cfg.checks);
  const results = {};
  for (const name of Object.keys(checks)) {
    if (/^(functional|security)_/.test(name) && typeof checks[name] === 'function') {
      results[name] = await runOne(cfg, name);
    }
  }
  process.stdout.write(`${cfg.nonce} ${JSON.stringify({ checks: results, needs_missing: [] })}\n`);
}

main();
