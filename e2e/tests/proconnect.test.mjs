// ProConnect in real headless Chromium, from an empty database: the operator's first account
// opens its invitation, signs in through a real OpenID provider (oidc-provider, set up like
// ProConnect) and lands on its pages; an identity without invitation reads why it is refused;
// signing out goes through the provider. axe-core on each page at 1280, 375 and 320 px.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const bin = process.env.PASSNUM_BIN || join(root, "target", "debug", "passnum");
const shots = join(root, "artifacts", "screenshots");
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(join(here, "..", "node_modules", "axe-core", "axe.min.js"), "utf8");
const SECRET = "un-secret-de-client-e2e";

let server, provider, browser, base, op, dir, env;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function started(child, marker, what) {
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 60000);
    const onData = (d) => {
      out += d.toString();
      if (out.includes(marker)) { clearTimeout(timer); resolve(out); }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (c) => reject(new Error(`${what} exited (${c}):\n${out}`)));
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "passnum-e2e-pc-"));
  const [port, opPort] = [await freePort(), await freePort()];
  base = `http://127.0.0.1:${port}`;
  op = `http://127.0.0.1:${opPort}`;
  provider = spawn("node", [join(here, "..", "oidc", "provider.mjs"), String(opPort), "passnum", SECRET,
    `${base}/connexion/proconnect/retour`, `${base}/connexion`], { stdio: ["ignore", "pipe", "pipe"] });
  await started(provider, "oidc-provider prêt", "oidc-provider");
  env = {
    ...process.env,
    PASSNUM_SIGNING_KEY: join(dir, "signing.key"),
    PASSNUM_HOUSEHOLD_KEY: join(dir, "household.key"),
    PASSNUM_PROCONNECT_CLIENT_SECRET: SECRET,
  };
  server = spawn(bin, ["--database-url", join(dir, "vide.db"), "--public-url", base, "serve", "--listen", `127.0.0.1:${port}`,
    "--proconnect-issuer", op, "--proconnect-client-id", "passnum"], { stdio: ["ignore", "pipe", "pipe"], env });
  await started(server, "passnum écoute sur", "passnum");
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  provider?.kill("SIGTERM");
});

/// axe-core's serious and critical violations, at 1280, 375 and 320 px; no sideways scroll.
async function accessible(page, name) {
  for (const width of [1280, 375, 320]) {
    await page.setViewportSize({ width, height: 800 });
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
    const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), [], `axe on ${name} at ${width} px`);
    assert.ok(await page.evaluate((w) => document.documentElement.scrollWidth <= w, width), `${name}: no sideways scroll at ${width} px`);
    await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/// The provider's development sign-in form, as a person fills it.
async function atProvider(page, subject) {
  await page.waitForURL((u) => u.toString().startsWith(op));
  await page.locator("input[name=login]").fill(subject);
  await page.locator("input[name=password]").fill("x");
  await page.locator("button[type=submit], input[type=submit]").first().click();
  await page.waitForURL((u) => u.toString().startsWith(base));
  await page.waitForLoadState();
}

test("the first operator links ProConnect by invitation, signs in and out; an unknown identity is told why", async () => {
  const link = execFileSync(bin, ["--database-url", join(dir, "vide.db"), "--public-url", base, "staff", "create",
    "--email", "eve@operateur.fr", "--name", "Ève Laurent", "--role", "operator"], { env }).toString().trim();
  assert.ok(link.startsWith(`${base}/mot-de-passe/`), link);

  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto(base + "/connexion");
  await page.getByRole("link", { name: "S'identifier avec ProConnect" }).waitFor();
  await accessible(page, "connexion-proconnect");

  await page.goto(link);
  await accessible(page, "invitation-proconnect");
  await page.getByRole("link", { name: "S'identifier avec ProConnect" }).click();
  await atProvider(page, "sub-eve");
  assert.equal(new URL(page.url()).pathname, "/operateur");
  assert.ok((await page.locator("body").textContent()).includes("Ève Laurent"), "signed in by name");

  // Signing out of passnum goes to the provider's own sign-out.
  const menu = page.locator("#menu-bouton");
  if (await menu.isVisible()) await menu.click();
  await page.getByRole("button", { name: "Se déconnecter" }).first().click();
  await page.waitForURL((u) => u.toString().startsWith(`${op}/session/end`));
  await context.close();

  // Someone whose identity no account is linked to reads what to do.
  const other = await browser.newContext({ locale: "fr-FR" });
  const p2 = await other.newPage();
  await p2.goto(base + "/connexion");
  await p2.getByRole("link", { name: "S'identifier avec ProConnect" }).click();
  await atProvider(p2, "sub-awa");
  assert.ok((await p2.locator("h1").textContent()).includes("Compte non relié"));
  assert.ok((await p2.locator("main").textContent()).includes("Demandez une invitation"));
  await accessible(p2, "proconnect-refus");
  await other.close();
});
