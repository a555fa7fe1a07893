// End-to-end tests of the release build in headless Chromium (Debian's
// chromium driven by playwright-core; nothing is downloaded).
//
//   node tests/e2e/run.mjs            (after `trunk build --release`)
//
// Serves DIST (default dist/) on 127.0.0.1 at a free port, runs the
// checks below, saves screenshots to target/e2e/*.png, prints the
// performance marks the app sets (obslab:interactive, obslab:ready) per
// page and writes them to target/e2e/timings.json. E2E_REPEAT=n loads
// each scenario n times and reports medians. Exits non-zero on failure.

import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const DIST = path.resolve(process.env.DIST || "dist");
const OUT = path.resolve(process.env.E2E_OUT || "target/e2e");
const REPEAT = Math.max(1, Number(process.env.E2E_REPEAT || 1));
const SEED = 7;
const SCENARIOS = [
  { id: "intermittent-p99", title: "Intermittent P99" },
  { id: "bookstore", title: "Bookstore" },
  { id: "slo-rollout", title: "SLO rollout" },
];
const CHROME_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// --- a static server for dist/ -------------------------------------------

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
};

function serve(root) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.join(root, path.normalize(rel));
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found");
        return;
      }
      res.writeHead(200, {
        "content-type": TYPES[path.extname(file)] || "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// --- helpers ----------------------------------------------------------------

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      return execFileSync("which", [name], { encoding: "utf8" }).trim();
    } catch {}
  }
  throw new Error("no chromium on PATH (apt-get install chromium)");
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function marks(page) {
  return page.evaluate(() =>
    Object.fromEntries(
      performance
        .getEntriesByType("mark")
        .filter((m) => m.name.startsWith("obslab:"))
        .map((m) => [m.name.slice("obslab:".length), Math.round(m.startTime)]),
    ),
  );
}

async function waitMark(page, name, timeout) {
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, `obslab:${name}`, {
    timeout,
    polling: 50,
  });
}

// Records every value the progress bar shows at a rendering opportunity,
// so the test sees the bar move rather than only its end.
function recordProgress() {
  window.__progress = [];
  const tick = () => {
    const p = document.getElementById("sim-progress");
    if (p && window.__progress[window.__progress.length - 1] !== p.value) window.__progress.push(p.value);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

// Pixels of the chart canvas: size, how many differ from the background
// (the top-left pixel) and how many are strongly coloured (the lines).
async function canvasPixels(page) {
  return page.evaluate(() => {
    const c = document.querySelector("[data-testid=chart]");
    const ctx = c.getContext("2d");
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const bg = [d[0], d[1], d[2]];
    let differ = 0;
    let coloured = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (Math.abs(r - bg[0]) + Math.abs(g - bg[1]) + Math.abs(b - bg[2]) > 40) differ++;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 90) coloured++;
    }
    return {
      width: c.width,
      height: c.height,
      cssWidth: c.clientWidth,
      cssHeight: c.clientHeight,
      dpr: devicePixelRatio,
      differ,
      coloured,
      total: d.length / 4,
    };
  });
}

// --- the tests --------------------------------------------------------------

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  for (const f of fs.readdirSync(OUT)) if (f.startsWith("failure-")) fs.rmSync(path.join(OUT, f));
  assert(fs.existsSync(path.join(DIST, "index.html")), `${DIST}/index.html is missing: run trunk build --release first`);
  const server = await serve(DIST);
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROME_ARGS });
  const results = [];
  const timings = { home: [], scenarios: {} };

  async function newPage(opts = {}) {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 2,
      colorScheme: opts.colorScheme || "light",
    });
    await context.addInitScript(recordProgress);
    const page = await context.newPage();
    page.problems = [];
    page.on("console", (m) => {
      if (m.type() === "error") page.problems.push(`console error: ${m.text()}`);
    });
    page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => page.problems.push(`request failed: ${r.url()}`));
    return page;
  }

  async function test(name, fn) {
    // E2E_ONLY=<regex> runs only the matching journeys (when fixing one).
    if (process.env.E2E_ONLY && !new RegExp(process.env.E2E_ONLY).test(name)) return;
    const t0 = Date.now();
    let page;
    try {
      await fn(async (opts) => (page = await newPage(opts)));
      if (page && !page.allowProblems) assert(page.problems.length === 0, page.problems.join("\n"));
      results.push({ name, ok: true });
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      results.push({ name, ok: false, error: e.message });
      console.log(`FAIL ${name}\n     ${String(e.message).split("\n").join("\n     ")}`);
      if (page) await page.screenshot({ path: path.join(OUT, `failure-${name.replace(/\W+/g, "-")}.png`) }).catch(() => {});
    } finally {
      if (page) await page.context().close();
    }
  }

  await test("home lists the built-in scenarios", async (open) => {
    const page = await open();
    await page.goto(base);
    await waitMark(page, "interactive", 20000);
    const cards = page.locator(".card");
    await cards.first().waitFor();
    const titles = await page.locator(".card__title").allTextContents();
    for (const s of SCENARIOS) assert(titles.some((t) => t.includes(s.title)), `no card for ${s.title}: ${titles}`);
    assert((await cards.count()) === SCENARIOS.length, `expected ${SCENARIOS.length} cards`);
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute("content");
    assert(csp.includes("script-src 'self' 'wasm-unsafe-eval'") && !csp.includes("unsafe-inline"), `CSP: ${csp}`);
    assert((await page.locator("#boot").count()) === 0, "the loading note is still there");
    timings.home.push((await marks(page)).interactive);
    await page.screenshot({ path: path.join(OUT, "home.png") });
  });

  await test("a card opens its scenario, and leaving mid-run is clean", async (open) => {
    const page = await open();
    await page.goto(base);
    await page.locator(".card__link", { hasText: "Intermittent P99" }).click();
    await page.waitForURL(/#\/scenario\/intermittent-p99\?seed=1$/);
    await page.locator("#briefing-title").waitFor();
    await page.locator("#sim-progress").waitFor();
    await page.goBack();
    await page.locator(".card").first().waitFor();
    await page.waitForTimeout(300);
  });

  for (const s of SCENARIOS) {
    timings.scenarios[s.id] = { interactive: [], simulated: [], ready: [] };
    for (let i = 0; i < REPEAT; i++) {
      await test(`${s.id} seed ${SEED} simulates with a moving progress bar and draws its chart${REPEAT > 1 ? ` (#${i + 1})` : ""}`, async (open) => {
        const page = await open();
        await page.goto(`${base}#/scenario/${s.id}?seed=${SEED}`);
        await waitMark(page, "interactive", 20000);
        await page.locator("h1", { hasText: s.title }).waitFor();
        const briefing = await page.locator(".briefing p").allTextContents();
        assert(briefing.length >= 1 && briefing.join(" ").length > 80, "no briefing text");
        await waitMark(page, "ready", 180000);
        const m = await marks(page);
        const progress = await page.evaluate(() => window.__progress);
        const moving = progress.filter((v) => v > 0 && v < 1);
        assert(moving.length >= 1, `the progress bar never showed a value between 0 and 1: ${JSON.stringify(progress)}`);
        await page.locator("[data-testid=digest]").waitFor({ timeout: 60000 });
        const digest = (await page.locator("[data-testid=digest]").textContent()).trim();
        assert(/^[0-9a-f]{32}$/.test(digest), `digest ${digest}`);
        const stats = await page.locator("[data-testid=stats] dd").allTextContents();
        assert(stats.length >= 6, `stats: ${stats}`);
        const px = await canvasPixels(page);
        assert(px.width === Math.round(px.cssWidth * px.dpr) && px.height === Math.round(px.cssHeight * px.dpr), `canvas backing store ${px.width}x${px.height} for ${px.cssWidth}x${px.cssHeight} CSS px at DPR ${px.dpr}`);
        assert(px.differ > px.total * 0.01, `the chart is blank: ${JSON.stringify(px)}`);
        assert(px.coloured > 800, `no coloured lines on the chart: ${JSON.stringify(px)}`);
        const t = timings.scenarios[s.id];
        t.interactive.push(m.interactive);
        t.simulated.push(m.simulated);
        t.ready.push(m.ready);
        console.log(`     ${s.id}: interactive ${m.interactive} ms, simulation ${m["sim-start"]}–${m["sim-end"]} ms, simulated ${m.simulated} ms, ready ${m.ready} ms; progress values seen ${progress.length} (${moving.length} between 0 and 1); digest ${digest}`);
        if (i === 0) {
          await page.locator("[data-testid=chart]").first().scrollIntoViewIfNeeded();
          await page.screenshot({ path: path.join(OUT, `scenario-${s.id}.png`), fullPage: true });
        }
      });
    }
  }

  await test("dark colour scheme", async (open) => {
    const page = await open({ colorScheme: "dark" });
    await page.goto(`${base}#/scenario/bookstore?seed=${SEED}`);
    await waitMark(page, "ready", 180000);
    const px = await canvasPixels(page);
    assert(px.coloured > 800, "no chart in dark mode");
    await page.screenshot({ path: path.join(OUT, "scenario-bookstore-dark.png"), fullPage: true });
  });

  await test("explore: a PromQL query draws a chart, a bad one shows the caret", async (open) => {
    const page = await open();
    await page.goto(`${base}#/scenario/intermittent-p99?seed=${SEED}&tab=explore`);
    await waitMark(page, "ready", 180000);
    const stats = page.locator("[data-testid=promql-stats]");
    await page.fill("[data-testid=promql-input]", "sum by (service) (rate(http_server_request_duration_seconds_count[5m]))");
    await page.click("[data-testid=promql-run]");
    await page.waitForFunction(() => decodeURIComponent(location.hash).includes("q=sum by (service)"));
    await page.waitForFunction(() => /^5 series/.test(document.querySelector("[data-testid=promql-stats]")?.textContent || ""));
    assert((await page.locator("[data-testid=chart]").count()) === 1, "one chart");
    await page.screenshot({ path: path.join(OUT, "explore.png"), fullPage: true });
    await page.fill("[data-testid=promql-input]", "sum(rate(x[5m])");
    await page.keyboard.press("Shift+Enter");
    const err = page.locator("[data-testid=query-error]");
    await err.waitFor();
    const text = await err.textContent();
    assert(text.includes("^") && text.includes("unclosed left parenthesis"), `error: ${text}`);
    assert((await stats.count()) === 0, "stats of the old result are gone");
    await page.screenshot({ path: path.join(OUT, "explore-error.png"), fullPage: true });
  });

  await test("an exemplar on a latency panel opens its trace, its critical path and the span's logs", async (open) => {
    const page = await open();
    await page.goto(`${base}#/scenario/intermittent-p99?seed=${SEED}`);
    await waitMark(page, "ready", 180000);
    // The slowest exemplar of the P99 panel (the highest dot): a slow trace, which tail sampling keeps.
    const p99 = page.locator("[data-testid=panel]", { hasText: "P99 latency" }).first();
    const dots = p99.locator("[data-testid=exemplar]");
    assert((await dots.count()) > 10, `exemplar dots: ${await dots.count()}`);
    const tops = await dots.evaluateAll((els) => els.map((e) => parseFloat(e.style.top)));
    const highest = tops.indexOf(Math.min(...tops));
    await dots.nth(highest).click({ force: true });
    await page.locator("[data-testid=trace-view]").waitFor({ timeout: 10000 });
    await page.waitForFunction(() => location.hash.includes("tab=traces") && /trace=[0-9a-f]{32}/.test(location.hash));
    const summary = await page.locator("[data-testid=trace-view] .result__stats").first().textContent();
    assert(/\d+ on the critical path/.test(summary), `summary: ${summary}`);
    const logs = page.locator("[data-testid=span-logs] pre");
    assert((await logs.count()) >= 1, "the root span's logs are shown");
    assert((await logs.first().textContent()).includes("trace_id"), "a log line of the span");
    await page.screenshot({ path: path.join(OUT, "exemplar-trace.png"), fullPage: true });
  });

  await test("traces: a search, then a waterfall with only its visible rows in the DOM", async (open) => {
    const page = await open();
    await page.goto(`${base}#/scenario/bookstore?seed=${SEED}&tab=traces&q=${encodeURIComponent("{ duration > 100ms }")}`);
    await waitMark(page, "simulated", 180000);
    await page.locator("[data-testid=trace-link]").first().click();
    await page.locator("[data-testid=trace-view]").waitFor();
    const rows = await page.locator(".waterfall__row").count();
    assert(rows >= 1 && rows <= 60, `${rows} rows in the DOM`);
    await page.locator(".waterfall__row").last().click();
    await page.locator("[data-testid=span-details]").waitFor();
    await page.screenshot({ path: path.join(OUT, "traces.png"), fullPage: true });
  });

  await test("logs: lines with levels, and a deep link survives a reload", async (open) => {
    const page = await open();
    // bookstore starts 2026-03-02T11:30:00Z; 11:40–11:50.
    const from = Date.UTC(2026, 2, 2, 11, 40), to = Date.UTC(2026, 2, 2, 11, 50);
    const q = '{service="bookstore-api"} |= "GET"';
    await page.goto(`${base}#/scenario/bookstore?seed=${SEED}&tab=logs&q=${encodeURIComponent(q)}&from=${from}&to=${to}`);
    await waitMark(page, "simulated", 180000);
    const check = async () => {
      await page.locator("[data-testid=log-lines] li").first().waitFor({ timeout: 20000 });
      assert((await page.locator("[data-testid=logql-input]").inputValue()) === q, "the query comes from the address");
      const range = await page.locator("[data-testid=time-range]").textContent();
      assert(range.startsWith("11:40:00 – 11:50:00"), `range: ${range}`);
      assert((await page.locator("#tab-logs").getAttribute("aria-selected")) === "true", "the Logs tab is open");
      const levels = await page.locator(".logline__level").allTextContents();
      assert(levels.length > 10 && levels.every((l) => /[A-Z]{4,5}/.test(l)), `levels: ${levels.slice(0, 3)}`);
    };
    await check();
    await page.screenshot({ path: path.join(OUT, "logs.png"), fullPage: true });
    await page.reload();
    await waitMark(page, "simulated", 180000);
    await check();
  });

  await test("profiles: a flame graph, search and zoom", async (open) => {
    const page = await open();
    await page.goto(`${base}#/scenario/intermittent-p99?seed=${SEED}&tab=profiles`);
    await waitMark(page, "simulated", 180000);
    const frames = page.locator("[data-testid=flame-frame]");
    await frames.first().waitFor({ timeout: 20000 });
    const drawn = await frames.count();
    assert(drawn >= 10, `${drawn} frames drawn`);
    const stats = await page.locator("[data-testid=profile-stats]").textContent();
    const laidOut = /laid out in (\d+) ms/.exec(stats);
    assert(/^[\d,]+ samples/.test(stats) && laidOut, `stats: ${stats}`);
    // The root spans the whole width.
    const widths = await frames.evaluateAll((els) => els.map((e) => parseFloat(e.style.width)));
    assert(Math.max(...widths) > 99.9, `widest frame ${Math.max(...widths)}%`);
    await page.screenshot({ path: path.join(OUT, "profiles.png"), fullPage: true });

    await page.fill("[data-testid=profile-search]", "json");
    await page.locator("[data-testid=profile-search-stats]").waitFor();
    const matches = await page.locator("[data-testid=flame-frame][data-match=true]").count();
    const searchText = await page.locator("[data-testid=profile-search-stats]").textContent();
    assert(matches >= 1 && /matching frame/.test(searchText), `search: ${matches} highlighted, “${searchText}”`);

    // Click a handler's frame (under half the width): it becomes the full width.
    const target = page.locator("[data-testid=flame-frame]", { hasText: "main.getProductId" }).first();
    const name = (await target.textContent()).trim();
    await target.click();
    await page.locator("[data-testid=flame-reset]").waitFor();
    const crumbs = await page.locator(".flame__crumbs li").allTextContents();
    assert(crumbs[crumbs.length - 1].trim() === name, `breadcrumb ${crumbs} for ${name}`);
    const zoomed = await page.locator("[data-testid=flame-frame]", { hasText: name }).first().evaluate((e) => parseFloat(e.style.width));
    assert(zoomed > 99.9, `the zoomed frame is ${zoomed}% wide`);
    // Hover shows a tooltip with samples and a share.
    await page.locator("[data-testid=flame-frame]").last().hover();
    const tip = await page.locator("[data-testid=flame-tooltip]").textContent();
    assert(/samples/.test(tip) && /%/.test(tip), `tooltip: ${tip}`);
    await page.screenshot({ path: path.join(OUT, "profiles-zoomed.png"), fullPage: true });
    await page.click("[data-testid=flame-reset]");
    await page.locator("[data-testid=flame-reset]").waitFor({ state: "detached" });

    // Compared with the start of the run (the whole run here: a notice, and the table stays).
    await page.fill("[data-testid=profile-search]", "");
    await page.selectOption("[data-testid=profile-compare]", "start");
    await page.waitForFunction(() => /compared with/.test(document.querySelector("[data-testid=profile-stats]")?.textContent || "") || document.querySelector(".profiles .notice"));
    const rows = await page.locator("[data-testid=profile-functions] tbody tr").count();
    assert(rows >= 5, `${rows} rows in the functions table`);
    // Every service of the hour: the largest profile of the scenario.
    await page.selectOption("[data-testid=profile-compare]", "off");
    await page.selectOption("[data-testid=profile-service]", "");
    await page.waitForFunction(() => !/compared/.test(document.querySelector("[data-testid=profile-stats]")?.textContent || "x"));
    const all = await page.locator("[data-testid=profile-stats]").textContent();
    const allFrames = await frames.count();
    assert(allFrames > drawn, `all services: ${allFrames} frames`);
    await page.screenshot({ path: path.join(OUT, "profiles-all-services.png"), fullPage: true });
    console.log(`     profiles: frontend ${drawn} frames, ${laidOut[0]}; search “json” highlights ${matches}; all services: ${allFrames} frames drawn, ${/[\d,]+ samples.*/.exec(all)[0]}`);
  });

  await test("profiles: diff of a window with the previous one, in dark mode", async (open) => {
    const page = await open({ colorScheme: "dark" });
    await page.goto(`${base}#/scenario/intermittent-p99?seed=${SEED}&tab=profiles`);
    await waitMark(page, "simulated", 180000);
    await page.locator("[data-testid=flame-frame]").first().waitFor();
    await page.locator(".timebar button", { hasText: "Last 15m" }).click();
    await page.selectOption("[data-testid=profile-compare]", "previous");
    await page.waitForFunction(() => /compared with/.test(document.querySelector("[data-testid=profile-stats]")?.textContent || ""));
    const labels = await page.locator("[data-testid=flame-frame]").allTextContents();
    assert(labels.some((l) => /\((\+|−|±)[\d.]+%\)|\((new|gone)\)/.test(l)), `no change in the labels: ${labels.slice(0, 5)}`);
    await page.screenshot({ path: path.join(OUT, "profiles-diff-dark.png"), fullPage: true });
  });

  // axe-core (npm) on every page and tool: no serious or critical violation.
  const axeSource = fs.readFileSync(path.resolve("node_modules/axe-core/axe.min.js"), "utf8");
  const axeViews = [
    ["home", "#/"],
    ["dashboards", `#/scenario/intermittent-p99?seed=${SEED}`],
    ["explore", `#/scenario/intermittent-p99?seed=${SEED}&tab=explore`],
    ["traces", `#/scenario/bookstore?seed=${SEED}&tab=traces`],
    ["logs", `#/scenario/bookstore?seed=${SEED}&tab=logs`],
    ["profiles", `#/scenario/intermittent-p99?seed=${SEED}&tab=profiles`],
    ["map", `#/scenario/intermittent-p99?seed=${SEED}&tab=map`],
  ];
  for (const [name, frag] of axeViews) {
    for (const colorScheme of ["light", "dark"]) {
      await test(`accessibility (axe-core): ${name}, ${colorScheme}`, async (open) => {
        const page = await open({ colorScheme });
        await page.goto(`${base}${frag}`);
        await waitMark(page, "interactive", 20000);
        if (frag.includes("scenario")) await waitMark(page, "simulated", 180000);
        if (name === "traces") {
          await page.locator("[data-testid=trace-link]").first().click();
          await page.locator("[data-testid=trace-view]").waitFor();
        }
        await page.waitForTimeout(300);
        // Evaluated through the DevTools protocol: the page's CSP does not apply.
        await page.evaluate(axeSource);
        const violations = await page.evaluate(async () => {
          const r = await window.axe.run(document, { resultTypes: ["violations"] });
          return r.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}×, e.g. ${v.nodes[0].target.join(" ")}: ${v.nodes[0].failureSummary.split("\n").slice(0, 2).join(" ")})`);
        });
        assert(violations.length === 0, violations.join("\n"));
      });
    }
  }

  await test("a bad seed in the address shows an error", async (open) => {
    const page = await open();
    await page.goto(`${base}#/scenario/intermittent-p99?seed=abc`);
    const err = page.locator("[data-testid=route-error]");
    await err.waitFor();
    const text = await err.textContent();
    assert(text.includes("abc") && text.includes("seed"), `error text: ${text}`);
    await page.screenshot({ path: path.join(OUT, "bad-seed.png") });
    // The router recovers when the fragment changes.
    await page.goto(`${base}#/scenario/intermittent-p99?seed=99999999999999999999999`);
    assert((await err.textContent()).includes("too large"), "an overflowing seed is not reported");
    await page.goto(`${base}#/scenario/no-such-thing`);
    assert((await err.textContent()).includes("no-such-thing"), "an unknown scenario is not reported");
    await page.goto(`${base}#/`);
    await page.locator(".card").first().waitFor();
  });

  await test("a panic shows the crash view with a working reload button", async (open) => {
    const page = await open();
    page.allowProblems = true;
    await page.goto(`${base}#/debug/panic`);
    const crash = page.locator("#crash");
    await crash.waitFor();
    assert((await crash.getAttribute("role")) === "alertdialog", "crash view role");
    assert((await page.locator("#crash .crash__detail").textContent()).includes("crash view was requested"), "panic message missing");
    assert(await page.locator("#crash button").evaluate((b) => b === document.activeElement), "reload button is not focused");
    await page.screenshot({ path: path.join(OUT, "crash.png") });
    await Promise.all([page.waitForEvent("load"), page.locator("#crash button").click()]);
    await page.locator("#crash").waitFor(); // same address, same panic: the view is back after the reload
    await Promise.all([page.waitForEvent("load"), page.locator("#crash a").click()]);
    await page.locator(".card").first().waitFor();
    assert(page.problems.some((p) => p.includes("crash view was requested")), "the panic was not logged to the console");
  });

  await browser.close();
  server.close();

  const summary = { home_interactive_ms: median(timings.home), scenarios: {} };
  console.log("\ntimings (ms since navigation start, median of " + REPEAT + "):");
  console.log("  home: interactive " + summary.home_interactive_ms);
  for (const [id, t] of Object.entries(timings.scenarios)) {
    summary.scenarios[id] = { interactive: median(t.interactive), simulated: median(t.simulated), ready: median(t.ready), runs: t.ready.length };
    console.log(`  ${id}: interactive ${median(t.interactive)}, simulated ${median(t.simulated)}, ready ${median(t.ready)}`);
  }
  fs.writeFileSync(path.join(OUT, "timings.json"), JSON.stringify({ summary, raw: timings }, null, 2) + "\n");
  const failed = results.filter((r) => !r.ok);
  console.log(`\ne2e: ${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${path.relative(process.cwd(), OUT)}/`);
  process.exit(failed.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
