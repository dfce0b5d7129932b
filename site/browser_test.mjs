// The built site in a real browser, offline: every chapter notebook runs, the REPL link works,
// and nothing is requested from any host but 127.0.0.1.
//
//   node site/browser_test.mjs OUT [--screenshot FILE.png] [--only ch03] [--chromium PATH]
//
// OUT is what `python site/build.py OUT` made. Steps:
//   1. serve OUT with `python -m http.server --bind 127.0.0.1` (as the README tells teachers);
//   2. start Chromium (Debian's, through npm playwright-core) whose proxy is a trap: Chromium
//      sends every request for another host to it, the trap records the host and refuses;
//      Playwright also records every request of the pages and their workers;
//   3. for each notebook of OUT/files (chNN_*.ipynb): open it in the notebook app, Run > Run All
//      Cells, wait until every code cell has its execution number, then fail on an error output
//      and check the chapter's known outputs (EXPECTED);
//   4. open the REPL with a line of purenn in its URL and wait for the 3-layer network's output;
//   5. fail when any request went to another host than 127.0.0.1, or asked for a font file the
//      build leaves out (LEGACY_FONTS in site/build.py).
// Exit status 0 only when all of this held; the last line is "N passed, N failed".
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

// Outputs each notebook must show (strings searched in the text of its outputs).
const EXPECTED = {
  "ch02_perceptron.ipynb": ["(1, 1) -> 0", "XOR(0, 1) = AND(NAND(0, 1), OR(0, 1))", "(1.0, 1.0) 0.0"],
  "ch03_neural_network.ipynb": ["0.3168270764110298", "Matrix (2, 3)", "a=Matrix([[710.0]])",
    "Accuracy:0.975"],
  "ch04_learning.ipynb": ["0.510825457099338", "0.1999999999990898", "b=1.0"],
  "ch05_backprop.ipynb": ["220.00000000000003", "y=1.0", "合格"],
  "ch06_training.ipynb": ["反例が見つかった", "epoch 2: train acc", "test accuracy: 0.9"],
  "ch07_convnet.ipynb": ["conv    (2, 48)   = (N, FN*OH*OW)", "(20 of 20 right): accuracy 1.00",
    "反例が見つかった", "Pool1     (1, 4320)   30x12x12"],
  "ch08_deep_learning.ipynb": ["Convolution7   32x16x16", "float16  accuracy 0.99 (first 100 test images)",
    "(12 of 12 misclassified)"],
};
const REPL_CODE = "from purenn import forward, init_network; print(forward(init_network(), [1.0, 0.5]))";
const REPL_EXPECTED = "[[0.3168270764110298  0.6962790898619668]]";  // str() of the Matrix

const NOTEBOOK_TIMEOUT = 5 * 60 * 1000;   // a hang fails, it does not eat CI's time
// Chromium's own background traffic off (measured: without the last five lines it asks
// update.googleapis.com, clients2.google.com, accounts.google.com and content-autofill on its own,
// from a blank page), so that any request the trap sees is a failure, with no list of exceptions.
const DEAD = "http://127.0.0.1:9/";  // the discard port: refused at once, never outside
const FLAGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
  "--disable-client-side-phishing-detection", "--disable-domain-reliability", "--no-pings",
  "--safebrowsing-disable-auto-update", `--gaia-url=${DEAD}`, `--component-updater=url-source=${DEAD}`,
  "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication," +
  "CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying"];

function parseArgs(argv) {
  const opts = { out: null, screenshot: null, only: null, chromium: "/usr/bin/chromium",
    python: process.env.PYTHON || "python3" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--screenshot") opts.screenshot = path.resolve(argv[++i]);
    else if (a === "--only") opts.only = argv[++i];
    else if (a === "--chromium") opts.chromium = argv[++i];
    else if (a === "--python") opts.python = argv[++i];
    else if (!a.startsWith("--") && !opts.out) opts.out = path.resolve(a);
    else throw new Error(`unknown option ${a}`);
  }
  if (!opts.out) throw new Error("usage: node site/browser_test.mjs OUT [--screenshot FILE] [--only NAME]");
  return opts;
}

function log(msg) { console.log(`[browser] ${msg}`); }

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// The static server a teacher would use.
async function serve(python, folder) {
  const port = await freePort();
  const proc = spawn(python, ["-m", "http.server", "--bind", "127.0.0.1", "--directory", folder, String(port)],
    { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; if (stderr.length > 1e6) stderr = stderr.slice(-1e5); });
  const base = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 100; i++) {
    try {
      await new Promise((resolve, reject) => http.get(base, (r) => { r.resume(); resolve(); }).on("error", reject));
      return { base, proc };
    } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  proc.kill();
  throw new Error(`python -m http.server did not start: ${stderr.slice(-500)}`);
}

// A proxy that refuses everything and remembers who asked for what.
async function trap(outside) {
  const server = http.createServer((req, res) => {
    outside.push(`proxy: ${req.method} ${req.url}`);
    res.writeHead(403); res.end();
  });
  server.on("connect", (req, socket) => {
    outside.push(`proxy: CONNECT ${req.url}`);
    socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

// The font files site/build.py leaves out (LEGACY_FONTS): a request for one is a failure.
const LEGACY_FONT = /\/fa-[a-z]+-\d+\.(eot|svg|ttf)([?#]|$)/;

function watch(context, outside, seen) {
  const check = (where) => (req) => {
    const url = req.url();
    seen.count++;
    if (LEGACY_FONT.test(url)) seen.legacyFonts.push(url);
    if (url.endsWith(".whl") || url.includes(".whl?")) seen.wheels++;
    if (url.startsWith("data:") || url.startsWith("blob:") || url.startsWith("about:")) return;
    let host;
    try { host = new URL(url).hostname; } catch { host = "?"; }
    if (host !== "127.0.0.1") outside.push(`${where}: ${req.method()} ${url}`);
  };
  context.on("request", check("page"));
  context.on("serviceworker", (w) => log(`service worker ${w.url()}`));
  context.on("page", (page) => page.on("worker", (w) => log(`worker ${w.url().slice(0, 80)}`)));
}

// Text of every output of the open notebook, and the state of every code cell's prompt.
async function notebookState(page) {
  return page.evaluate(() => {
    const cells = [...document.querySelectorAll(".jp-Notebook .jp-Cell.jp-CodeCell")];
    return cells.map((cell) => {
      const prompt = (cell.querySelector(".jp-InputArea-prompt")?.textContent || "").trim();
      const outputs = [...cell.querySelectorAll(".jp-OutputArea-output")].map((o) => ({
        mime: o.getAttribute("data-mime-type") || "",
        text: o.textContent || "",
      }));
      return { prompt, outputs };
    });
  });
}

// An error output (a traceback) or anything on stderr: the notebooks write nothing there.
function isError(o) {
  return o.mime.includes("stderr") || /Traceback \(most recent call last\)/.test(o.text);
}

async function runNotebook(page, base, name, codeCells) {
  const t0 = Date.now();
  await page.goto(`${base}notebooks/index.html?path=${encodeURIComponent(name)}`);
  await page.locator(".jp-Notebook .jp-Cell").first().waitFor({ timeout: 120000 });
  // Run > Run All Cells, as a learner does
  const runAll = async () => {
    await page.getByRole("menuitem", { name: "Run", exact: true }).click();
    await page.getByRole("menuitem", { name: /^Run All Cells/ }).click();
  };
  await runAll();
  let state = [];
  let clicked = Date.now();
  for (;;) {
    state = await notebookState(page);
    // The first notebook of a fresh browser can take the click before its kernel session
    // is attached: nothing is queued, every prompt stays "[ ]:" (seen once here, under a
    // load of 4). A learner clicks again; so do we, after 60 s of nothing, and say so.
    if (Date.now() - clicked > 60000 && state.every((c) => c.prompt === "[ ]:")) {
      log(`${name}: nothing ran 60 s after Run All Cells; clicking it again`);
      await runAll();
      clicked = Date.now();
    }
    const done = state.length === codeCells && state.every((c) => /^\[\d+\]:$/.test(c.prompt));
    // Run All stops at a cell that raises: the cells after it are never run
    const stopped = state.some((c) => c.outputs.some(isError)) && !state.some((c) => c.prompt === "[*]:");
    if (done || stopped) break;
    if (Date.now() - t0 > NOTEBOOK_TIMEOUT) {
      throw new Error(`${name}: not finished after ${NOTEBOOK_TIMEOUT / 1000} s; prompts: ` +
        state.map((c) => c.prompt).join(" "));
    }
    await page.waitForTimeout(500);
  }
  const problems = [];
  const text = state.flatMap((c) => c.outputs.map((o) => o.text)).join("\n");
  state.forEach((c, i) => c.outputs.forEach((o) => {
    if (isError(o)) problems.push(`code cell ${i + 1} ${c.prompt}: ${o.text.slice(0, 400)}`);
  }));
  const notRun = state.filter((c) => !/^\[\d+\]:$/.test(c.prompt)).length;
  if (notRun) problems.push(`${notRun} code cells did not run`);
  for (const want of EXPECTED[name] || []) {
    if (!text.includes(want)) problems.push(`the output ${JSON.stringify(want)} is missing`);
  }
  const svgs = await page.locator(".jp-OutputArea-output svg, .jp-OutputArea-output img[src^='data:image/svg']").count();
  return { seconds: (Date.now() - t0) / 1000, problems, outputs: state.reduce((n, c) => n + c.outputs.length, 0), svgs };
}

async function runRepl(page, base) {
  const t0 = Date.now();
  const url = `${base}repl/index.html?kernel=python&toolbar=1&code=${encodeURIComponent(REPL_CODE)}`;
  await page.goto(url);
  const out = page.locator(".jp-CodeConsole .jp-OutputArea-output", { hasText: REPL_EXPECTED });
  try {
    await out.first().waitFor({ timeout: NOTEBOOK_TIMEOUT });
    return { seconds: (Date.now() - t0) / 1000, problems: [] };
  } catch (e) {
    const seen = await page.locator(".jp-CodeConsole").textContent().catch(() => "");
    return { seconds: (Date.now() - t0) / 1000, problems: [`no ${REPL_EXPECTED} in the REPL: ${(seen || "").slice(0, 400)}`] };
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const filesDir = path.join(opts.out, "files");
  let notebooks = fs.readdirSync(filesDir).filter((f) => /^ch\d+_.*\.ipynb$/.test(f)).sort();
  if (opts.only) notebooks = notebooks.filter((f) => f.includes(opts.only));
  if (!notebooks.length) throw new Error(`no chapter notebooks in ${filesDir}`);
  const outside = [];
  const seen = { count: 0, wheels: 0, legacyFonts: [] };
  const proxy = await trap(outside);
  const { base, proc } = await serve(opts.python, opts.out);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "purenn-chromium-"));
  const t0 = Date.now();
  let passed = 0, failed = 0;
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: opts.chromium, headless: true, chromiumSandbox: false,
      args: [...FLAGS, `--proxy-server=http://127.0.0.1:${proxy.address().port}`],
      viewport: { width: 1280, height: 900 },
    });
    watch(context, outside, seen);
    const page = context.pages()[0] || await context.newPage();
    page.on("pageerror", (e) => log(`page error: ${e.message.slice(0, 200)}`));
    for (const name of notebooks) {
      const nb = JSON.parse(fs.readFileSync(path.join(filesDir, name), "utf-8"));
      const codeCells = nb.cells.filter((c) => c.cell_type === "code").length;
      let r;
      try {
        r = await runNotebook(page, base, name, codeCells);
      } catch (e) {
        r = { seconds: NaN, problems: [String(e.message || e)], outputs: 0, svgs: 0 };
      }
      if (opts.screenshot && name.startsWith("ch03") && !r.problems.length) {
        const fig = page.locator(".jp-OutputArea-output svg, .jp-OutputArea-output img").first();
        await fig.scrollIntoViewIfNeeded().catch(() => {});
        await page.screenshot({ path: opts.screenshot });
        log(`screenshot of ${name}: ${opts.screenshot}`);
      }
      report(name, r, `${codeCells} code cells, ${r.outputs} outputs, ${r.svgs} SVG figures`);
      r.problems.length ? failed++ : passed++;
    }
    const r = await runRepl(page, base);
    report("REPL ?code=", r, "");
    r.problems.length ? failed++ : passed++;
  } finally {
    if (context) await context.close();
    proc.kill();
    proxy.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  log(`requests seen by the pages and their workers: ${seen.count} (${seen.wheels} of wheels)`);
  if (seen.legacyFonts.length) {
    failed++;
    log(`FAIL requests for font files the build leaves out: ${[...new Set(seen.legacyFonts)].join(" ")}`);
  }
  if (outside.length) {
    failed++;
    log(`FAIL requests to other hosts than 127.0.0.1 (${outside.length}):`);
    for (const o of [...new Set(outside)].slice(0, 30)) log(`  ${o}`);
  } else {
    passed++;
    log("ok   no request to any host but 127.0.0.1");
  }
  log(`browser test: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;

  function report(name, r, detail) {
    log(`${r.problems.length ? "FAIL" : "ok  "} ${name} (${r.seconds.toFixed(1)} s) ${detail}`);
    for (const p of r.problems) log(`     ${p}`);
  }
}

main().then(
  (rc) => { process.exitCode = rc; },
  (err) => { console.error(err); process.exitCode = 2; },
);
