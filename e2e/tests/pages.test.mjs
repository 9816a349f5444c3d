// passnum's pages in real headless Chromium: a mediator redeems, is refused, cancels; a funder
// sees the count change; axe-core finds no serious or critical violation on any page.
// Screenshots of the key pages go to ../artifacts/screenshots.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { chromium } from "playwright-core";
import QRCode from "qrcode";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const bin = process.env.PASSNUM_BIN || join(root, "target", "debug", "passnum");
const shots = join(root, "artifacts", "screenshots");
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(join(here, "..", "node_modules", "axe-core", "axe.min.js"), "utf8");

let server, browser, base, dir, payload, codes = [], trial;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "passnum-e2e-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ["--database-url", join(dir, "e2e.db"), "demo", "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PASSNUM_SIGNING_KEY: join(dir, "signing.key"), PASSNUM_HOUSEHOLD_KEY: join(dir, "household.key") },
  });
  let out = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("passnum did not start:\n" + out)), 60000);
    const onData = (d) => {
      out += d.toString();
      if (out.includes("passnum écoute sur")) { clearTimeout(timer); resolve(); }
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.on("exit", (c) => reject(new Error(`passnum exited (${c}):\n${out}`)));
  });
  codes = [...out.matchAll(/chèque \d+ : ([0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5})/g)].map((m) => m[1]);
  assert.ok(codes.length >= 3, out);
  payload = out.match(/QR code du chèque [0-9A-Z-]+ \(à coller dans la page d'encaissement\) : (PN1:[0-9A-Z:]+)/)?.[1];
  assert.ok(payload, out);
  const t = out.match(/Pour essayer les ateliers : carnet (\d+-\d+), code de réservation ([A-Z0-9]{4}-[A-Z0-9]{4}) ; ses chèques : ([0-9A-Z-]{17}), ([0-9A-Z-]{17})/);
  assert.ok(t, out);
  trial = { booklet: t[1], code: t[2], cheques: [t[3], t[4]] };
  // The camera Chromium offers the pages films a demo cheque's QR code.
  const camera = join(dir, "camera.y4m");
  qrVideo(camera, payload);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${camera}`],
  });
});

/// A short Y4M film of `text` as a QR code, black on white, for Chromium's fake camera.
function qrVideo(path, text) {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
  const [width, height, cell] = [640, 480, 7];
  const size = modules.size * cell;
  assert.ok(size <= height - 8 * cell, `the QR code fits the frame with its quiet zone (${size} px)`);
  const luma = Buffer.alloc(width * height, 255);
  const [left, top] = [(width - size) >> 1, (height - size) >> 1];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      if (modules.get(Math.floor(y / cell), Math.floor(x / cell))) luma[(top + y) * width + left + x] = 0;
  const chroma = Buffer.alloc(width * height / 2, 128);
  const frame = Buffer.concat([Buffer.from("FRAME\n"), luma, chroma]);
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]));
}

after(async () => {
  await browser?.close();
  server?.kill();
});

/// Every page is watched for Content-Security-Policy violations: a script, style or image the
/// policy blocks is a page that does not work as written.
function watched(page) {
  page.cspViolations = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) page.cspViolations.push(m.text());
  });
  return page;
}

async function axe(page, name) {
  assert.deepEqual(page.cspViolations ?? [], [], `CSP on ${name}`);
  // Evaluated through the DevTools protocol: the pages' CSP forbids inline scripts, rightly.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), [], `axe on ${name}`);
  // Every state checked on a desktop is checked on phones too.
  if (page.viewportSize().width >= 1024) await onPhones(page, name);
}

async function visit(page, path, name) {
  const resp = await page.goto(base + path);
  assert.ok(resp.status() < 400, `${path}: ${resp.status()}`);
  await axe(page, name);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/// The links and buttons a person can see on the page as it stands, by target and words.
async function controls(page) {
  return page.evaluate(() => [...document.querySelectorAll("a[href], button")]
    .filter((e) => e.checkVisibility({ visibilityProperty: true }))
    .map((e) => `${e.tagName.toLowerCase()} ${e.getAttribute("href") ?? ""} ${e.textContent.trim().replace(/\s+/g, " ")}`));
}

/// The desktop page again at 375 and 320 px (WCAG 2.1 reflow): axe, no sideways scroll, and
/// every link and button of the desktop page still there, on the page or in the header's menu.
async function onPhones(page, name) {
  const desktop = page.viewportSize();
  const wide = new Set(await controls(page));
  for (const width of [375, 320]) {
    await page.setViewportSize({ width, height: 800 });
    await axe(page, `${name}-${width}`);
    assert.ok(await page.evaluate((w) => document.documentElement.scrollWidth <= w, width), `${name}: no sideways scroll at ${width} px`);
    const seen = new Set(await controls(page));
    const menu = page.locator("#menu-bouton");
    if (await menu.isVisible()) {
      await menu.click();
      await page.locator("#menu-modal").waitFor({ state: "visible" });
      for (const c of await controls(page)) seen.add(c);
      await page.keyboard.press("Escape");
      await page.locator("#menu-modal").waitFor({ state: "hidden" });
    }
    assert.deepEqual([...wide].filter((c) => !seen.has(c)), [], `${name}: lost at ${width} px`);
  }
  if (name) await page.screenshot({ path: join(shots, `${name}-320.png`), fullPage: true });
  await page.setViewportSize(desktop);
}

/// Ticks a box or a radio as a person does, on its label: DSFR draws the box on the label and
/// hides the native input under it. Checked afterwards.
async function tick(page, input) {
  const id = await input.getAttribute("id");
  await page.locator(`label[for="${id}"]`).click();
  assert.ok(await input.isChecked(), `${id} is ticked`);
}

async function signIn(email, password) {
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = watched(await context.newPage());
  await page.goto(base + "/connexion");
  await page.getByLabel("Adresse électronique").fill(email);
  await page.getByLabel("Mot de passe").fill(password);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForLoadState();
  return page;
}

async function redeemedCount(funderPage) {
  await funderPage.goto(base + "/commanditaire");
  return Number(await funderPage.locator("[data-testid=encaisses-1]").textContent());
}

test("public pages are accessible and the pass check answers", async () => {
  const page = watched(await browser.newPage());
  await visit(page, "/", "accueil");
  await visit(page, "/lieux", "lieux");
  await visit(page, "/referentiel", "referentiel");
  await visit(page, "/lieux?q=Lyon&categorie=2.1&format=collective", "lieux-recherche");
  await page.setViewportSize({ width: 320, height: 800 });
  await visit(page, "/lieux", "lieux-320");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), "no sideways scroll at 320 px");
  await page.setViewportSize({ width: 1280, height: 800 });
  await visit(page, "/connexion", "connexion");
  await visit(page, "/verifier", "verifier");
  await page.getByLabel(/Code du pass/).fill(codes[2].toLowerCase().replaceAll("-", " "));
  await page.getByRole("button", { name: "Vérifier" }).click();
  await page.getByText(/Ce pass est valable/).waitFor();
  await axe(page, "verifier-resultat");
  // A typo is explained, and the input is kept.
  const typo = codes[2].slice(0, 3) + (codes[2][3] === "7" ? "8" : "7") + codes[2].slice(4);
  await page.getByLabel(/Code du pass/).fill(typo);
  await page.getByRole("button", { name: "Vérifier" }).click();
  await page.getByRole("alert").getByText(/Une lettre du code semble fausse/).waitFor();
  assert.equal(await page.getByLabel(/Code du pass/).inputValue(), typo);
  await axe(page, "verifier-erreur");
  await page.close();
});

test("a mediator redeems, is refused the second time, cancels; the funder sees the count", async () => {
  const funder = await signIn("commanditaire@demo.passnum.fr", "demo-commanditaire-2026");
  // The demo's workshop held last week already took two cheques.
  const before = await redeemedCount(funder);
  assert.equal(before, 2);
  await axe(funder, "commanditaire");
  await funder.screenshot({ path: join(shots, "commanditaire.png"), fullPage: true });

  const mediator = await signIn("mediateur@demo.passnum.fr", "demo-mediateur-2026");
  assert.ok(mediator.url().endsWith("/lieu"), mediator.url());
  await axe(mediator, "lieu");
  await mediator.screenshot({ path: join(shots, "lieu.png"), fullPage: true });

  // Empty form: error summary and inline messages.
  await mediator.getByRole("button", { name: "Encaisser" }).click();
  await mediator.locator("#erreurs").waitFor();
  assert.match(await mediator.locator("#code-erreur").textContent(), /code/i);
  assert.match(await mediator.locator("#service-erreur").textContent(), /service/i);
  await axe(mediator, "lieu-erreurs");

  // The session expires while a code is typed: signing in again comes back to the scan page
  // with the code and the service filled in, and nothing was redeemed meanwhile.
  await mediator.context().clearCookies({ name: "passnum_session" });
  await mediator.getByLabel(/Code du pass/).fill(codes[0]);
  await mediator.getByLabel("Service rendu").selectOption("2.1.07");
  await mediator.getByRole("button", { name: "Encaisser" }).click();
  await mediator.waitForURL(/\/connexion\?expiree=1$/);
  assert.equal(await redeemedCount(funder), before);
  await mediator.getByLabel("Adresse électronique").fill("mediateur@demo.passnum.fr");
  await mediator.getByLabel("Mot de passe").fill("demo-mediateur-2026");
  await mediator.getByRole("button", { name: "Se connecter" }).click();
  await mediator.waitForURL(/\/lieu$/);
  await mediator.locator("#code-repris").waitFor();
  assert.equal(await mediator.getByLabel(/Code du pass/).inputValue(), codes[0]);
  assert.equal(await mediator.getByLabel("Service rendu").inputValue(), "2.1.07");
  await axe(mediator, "lieu-code-repris");
  await mediator.getByRole("button", { name: "Encaisser" }).click();
  await mediator.locator("#resultat[data-result=accepte]").waitFor();
  assert.equal(await mediator.locator("#code-repris").isVisible(), false);
  assert.match(await mediator.locator("#resultat").textContent(), /Pass accepté : 10,00/);
  await mediator.screenshot({ path: join(shots, "lieu-accepte.png"), fullPage: true });
  assert.equal(await redeemedCount(funder), before + 1);

  await mediator.getByLabel(/Code du pass/).fill(codes[0]);
  await mediator.getByLabel("Service rendu").selectOption("2.1.07");
  await mediator.getByRole("button", { name: "Encaisser" }).click();
  await mediator.locator("#resultat[data-result=refuse]").waitFor();
  assert.match(await mediator.locator("#resultat").textContent(), /déjà été utilisé le \d\d\/\d\d\/\d{4} à \d+ h \d\d/);
  await axe(mediator, "lieu-refuse");
  await mediator.screenshot({ path: join(shots, "lieu-refuse.png"), fullPage: true });

  // The recent scans read as cards on a phone: "Annuler" on screen, not beyond its right edge.
  await mediator.setViewportSize({ width: 320, height: 800 });
  const cancel = mediator.getByRole("link", { name: `Annuler l'encaissement du pass ${codes[0]}` });
  const box = await cancel.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 320, `"Annuler" within 320 px: ${JSON.stringify(box)}`);
  await axe(mediator, "lieu-refuse-320");
  await mediator.setViewportSize({ width: 1280, height: 800 });
  await cancel.click();
  await mediator.getByRole("heading", { name: "Annuler un encaissement" }).waitFor();
  await axe(mediator, "lieu-annulation");
  await mediator.getByRole("button", { name: "Oui, annuler l'encaissement" }).click();
  await mediator.getByText("Encaissement annulé").waitFor();
  assert.equal(await redeemedCount(funder), before);

  await funder.getByRole("link", { name: "1", exact: true }).click();
  await funder.getByRole("heading", { name: "Commande n° 1" }).waitFor();
  await axe(funder, "commande");
  await funder.screenshot({ path: join(shots, "commande.png"), fullPage: true });
  await visit(funder, "/commanditaire/commandes/1/facture", "facture");
  await visit(funder, "/commanditaire/releve", "releve-mensuel");
  await visit(funder, "/commanditaire/journal", "journal-commanditaire");
  await funder.goto(base + "/commanditaire/encaissements");
  await axe(funder, "encaissements");
  await funder.screenshot({ path: join(shots, "encaissements.png"), fullPage: true });
  assert.match(await funder.locator("table").textContent(), new RegExp(codes[0]));
  await visit(mediator, "/lieu/paiements", "lieu-paiements");
  // The mediator adds a service to the venue's catalogue, from a phone-sized screen.
  await mediator.setViewportSize({ width: 320, height: 800 });
  await visit(mediator, "/lieu/catalogue", "lieu-catalogue-320");
  assert.ok(await mediator.evaluate(() => document.documentElement.scrollWidth <= 320), "no sideways scroll at 320 px");
  await mediator.getByLabel("1.1.01 — Composantes et facettes de l'identité numérique").selectOption("individual");
  await mediator.getByRole("button", { name: "Enregistrer le catalogue" }).click();
  await mediator.waitForLoadState();
  assert.match(await mediator.locator(".fr-alert--success").textContent(), /Catalogue enregistré : 9 services proposés/);
  await axe(mediator, "lieu-catalogue-enregistre");
  assert.match(await mediator.locator("main").textContent(), /Ajouté : 1\.1\.01 \(individuel\)/);
  await mediator.setViewportSize({ width: 1280, height: 800 });
  // A mediator cannot open the funder's pages.
  const resp = await mediator.goto(base + "/commanditaire");
  assert.equal(resp.status(), 403);
  await axe(mediator, "acces-refuse");
});

test("operator pages are accessible", async () => {
  const op = await signIn("operateur@demo.passnum.fr", "demo-operateur-2026");
  assert.ok(op.url().endsWith("/operateur"), op.url());
  await axe(op, "operateur");
  await op.screenshot({ path: join(shots, "operateur.png"), fullPage: true });
  for (const [path, name] of [["/operateur/commanditaires", "operateur-commanditaires"], ["/operateur/commandes", "operateur-commandes"], ["/operateur/lieux", "operateur-lieux"], ["/operateur/referentiel", "operateur-referentiel"], ["/operateur/candidats", "operateur-candidats"], ["/operateur/structures", "operateur-structures"], ["/operateur/virements", "operateur-virements"], ["/operateur/comptes", "operateur-comptes"], ["/operateur/journal", "operateur-journal"]]) {
    await visit(op, path, name);
  }
  // A funder's page records where its refunds are paid: a mistyped IBAN is said next to it.
  await op.goto(base + "/operateur/commanditaires");
  await op.getByRole("table").getByRole("link").first().click();
  await op.getByRole("heading", { name: "Compte de remboursement" }).waitFor();
  await op.getByLabel(/^IBAN/).fill("FR76 3000 1007 9412 3456 7890 186");
  await op.getByLabel(/^BIC/).fill("BDFEFRPP");
  await op.getByLabel("Titulaire du compte").fill("DRFIP Rhône");
  await op.getByRole("button", { name: "Enregistrer le compte" }).click();
  await op.locator("#iban-erreur").waitFor();
  await axe(op, "operateur-commanditaire-erreur");
  await op.getByLabel(/^IBAN/).fill("FR76 3000 1007 9412 3456 7890 185");
  await op.getByRole("button", { name: "Enregistrer le compte" }).click();
  await op.getByText("Compte de remboursement enregistré").waitFor();
  assert.equal(await op.getByLabel("Titulaire du compte").inputValue(), "", "the form is empty again");
  await axe(op, "operateur-commanditaire");
  // An imported place becomes an application: its page, then its venue's file.
  await op.goto(base + "/operateur/candidats?vue=new");
  await op.getByRole("link", { name: "Fablab des Pentes" }).click();
  await op.getByRole("heading", { name: "Fablab des Pentes", level: 1 }).waitFor();
  await axe(op, "operateur-candidat");
  assert.equal(await op.getByLabel(/SIRET ou RNA/).inputValue(), "84712345000011");
  await op.getByRole("button", { name: "Ouvrir le dossier" }).click();
  await op.getByText(/Dossier ouvert depuis le lieu importé/).waitFor();
  assert.match(op.url(), /\/operateur\/lieux\/\d+$/);
  await axe(op, "operateur-lieu-depuis-import");
  // The référentiel: a new category needs its name (error summary), then the service is listed.
  await op.goto(base + "/operateur/referentiel");
  await op.getByLabel(/Code du service/).fill("3.9.01");
  await op.getByLabel(/Nom du service/).fill("Créer son site");
  await op.getByRole("button", { name: "Enregistrer le service" }).click();
  await op.locator("#erreurs").waitFor();
  await axe(op, "operateur-referentiel-erreurs");
  await op.getByLabel(/Nom de la catégorie/).fill("Publier en ligne");
  await op.getByRole("button", { name: "Enregistrer le service" }).click();
  await op.getByText("Service 3.9.01 enregistré.").waitFor();
  await op.getByRole("cell", { name: /Service créé : « Créer son site »/ }).waitFor();
  await axe(op, "operateur-referentiel-historique");
  // A structure with an unknown commune is refused with a sentence; a good one is listed.
  await op.goto(base + "/operateur/structures");
  await op.getByLabel("Nom", { exact: true }).fill("Médiathèque de Bron");
  await op.getByLabel(/^Commune/).fill("69999");
  await op.getByRole("button", { name: "Ajouter" }).click();
  await op.locator("#erreurs").waitFor();
  await axe(op, "operateur-structures-erreurs");
  // The commune by its name, as people say it.
  await op.getByLabel(/^Commune/).fill("Bron");
  await op.getByRole("button", { name: "Ajouter" }).click();
  await op.getByRole("cell", { name: "Médiathèque de Bron" }).waitFor();
  await op.getByRole("row", { name: /Médiathèque de Bron.*Bron/ }).waitFor();
  await op.goto(base + "/operateur/comptes");
  // Creating an account yields a one-time link; the new person chooses a password with it.
  await op.getByLabel("Adresse électronique", { exact: true }).fill("nouvelle@mediatheque.fr");
  await op.getByLabel("Nom affiché").fill("Nouvelle médiatrice");
  await op.getByLabel("Rôle").selectOption("venue");
  await op.getByLabel(/N° du lieu/).fill("2");
  await op.getByRole("button", { name: "Créer et obtenir le lien" }).click();
  const link = (await op.locator("#lien").textContent()).trim();
  const fresh = watched(await (await browser.newContext()).newPage());
  await fresh.goto(link);
  await axe(fresh, "mot-de-passe");
  await fresh.getByLabel(/Nouveau mot de passe/).fill("une phrase assez longue");
  await fresh.getByLabel("Confirmez le mot de passe").fill("une phrase assez longue");
  await fresh.getByRole("button", { name: "Enregistrer" }).click();
  await fresh.getByText("Mot de passe enregistré").waitFor();
  const signedIn = await signIn("nouvelle@mediatheque.fr", "une phrase assez longue");
  assert.ok(signedIn.url().endsWith("/lieu"));
});

test("a funder orders with its logo, the operator issues, the booklet prints, a forged QR code is refused in the browser", async () => {
  const funder = await signIn("commanditaire@demo.passnum.fr", "demo-commanditaire-2026");
  await funder.getByRole("link", { name: "Nouvelle commande" }).click();
  await funder.getByRole("heading", { name: "Nouvelle commande de carnets" }).waitFor();
  await axe(funder, "nouvelle-commande");
  // A split that does not reach 100 % is explained; the input is kept.
  await funder.getByLabel(/Nombre de carnets/).fill("4");
  await funder.getByLabel(/Plan de financement/).fill("État = 50\nFEDER = 21");
  await funder.getByRole("button", { name: "Enregistrer le brouillon" }).click();
  await funder.locator("#erreurs").waitFor();
  assert.match(await funder.locator("#funding-erreur").textContent(), /71 % au lieu de 100 %/);
  assert.equal(await funder.getByLabel(/Nombre de carnets/).inputValue(), "4");
  await axe(funder, "nouvelle-commande-erreurs");
  await funder.screenshot({ path: join(shots, "nouvelle-commande-erreurs.png"), fullPage: true });
  await funder.getByLabel(/Plan de financement/).fill("État = 50\nFEDER = 21\nFonds propres = 29");
  await funder.getByLabel(/Communes/).fill("69266");
  // A commune given with its région as well: refused with both names, under the communes.
  await funder.getByLabel(/Régions/).fill("84");
  await funder.getByRole("button", { name: "Enregistrer le brouillon" }).click();
  await funder.locator("#erreurs").waitFor();
  assert.match(await funder.locator("#communes-erreur").textContent(), /Villeurbanne \(69266\) est déjà dans Auvergne-Rhône-Alpes \(84\)/);
  assert.equal(await funder.getByLabel(/Intercommunalités/).inputValue(), "");
  await funder.getByLabel(/Régions/).fill("");
  await tick(funder, funder.getByLabel("Personne âgée (65 ans et plus)"));
  const logo = join(dir, "logo.svg");
  writeFileSync(logo, '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#000091"/></svg>');
  await funder.getByLabel(/Votre logo/).setInputFiles(logo);
  await funder.getByRole("button", { name: "Enregistrer le brouillon" }).click();
  await funder.getByRole("heading", { name: /Commande n° \d+/ }).waitFor();
  const id = (await funder.getByRole("heading", { name: /Commande n° \d+/ }).textContent()).match(/\d+/)[0];
  assert.equal((await funder.locator("#statut").textContent()).trim(), "Brouillon");
  assert.match(await funder.locator("main").textContent(), /FEDER 21 %/);
  assert.match(await funder.locator("main").textContent(), /Villeurbanne \(69266\)/);
  await axe(funder, "commande-brouillon");
  await funder.getByRole("button", { name: "Confirmer la commande" }).click();
  await funder.locator("#statut", { hasText: "Confirmée" }).waitFor();
  await funder.screenshot({ path: join(shots, "commande-confirmee.png"), fullPage: true });

  const op = await signIn("operateur@demo.passnum.fr", "demo-operateur-2026");
  await op.goto(base + "/operateur/commandes");
  // Each step is asked once more: nothing happens until "Je confirme" is ticked.
  await op.getByRole("link", { name: `Paiement reçu pour la commande ${id}` }).click();
  await op.getByRole("heading", { name: `Paiement reçu pour la commande n° ${id} ?` }).waitFor();
  await op.getByRole("button", { name: "Enregistrer le paiement" }).click();
  await op.locator("#confirmation-erreur").waitFor();
  await axe(op, "operateur-commande-etape-erreur");
  await tick(op, op.getByLabel("Je confirme"));
  await op.getByRole("button", { name: "Enregistrer le paiement" }).click();
  await op.getByRole("link", { name: `Émettre les carnets de la commande ${id}` }).click();
  await tick(op, op.getByLabel("Je confirme"));
  await op.getByRole("button", { name: "Émettre les carnets" }).click();
  await op.getByRole("heading", { name: "Commandes" }).waitFor();
  await axe(op, "operateur-commandes-emises");

  await funder.goto(base + `/commanditaire/commandes/${id}`);
  assert.equal((await funder.locator("#statut").textContent()).trim(), "Émise");
  await axe(funder, "commande-emise");
  await funder.screenshot({ path: join(shots, "commande-emise.png"), fullPage: true });
  // The demo order's booklets were shared: its moves, each with a procès-verbal, and the
  // inventory at a date.
  await funder.goto(base + "/commanditaire/commandes/1");
  await funder.getByRole("link", { name: /Procès-verbal n° 1/ }).waitFor();
  await axe(funder, "commande-mouvements");
  await funder.getByRole("link", { name: "Inventaire des carnets à une date" }).click();
  await funder.getByRole("heading", { name: "Inventaire des carnets de la commande n° 1" }).waitFor();
  assert.match(await funder.locator("table").textContent(), /Stock du commanditaire/);
  await axe(funder, "inventaire");
  await funder.screenshot({ path: join(shots, "inventaire.png"), fullPage: true });
  await funder.goto(base + `/commanditaire/commandes/${id}`);
  for (const name of ["Carnet 1 (PDF)", "Courrier d'accompagnement (PDF)"]) {
    const [download] = await Promise.all([funder.waitForEvent("download"), funder.getByRole("link", { name }).click()]);
    const file = join(dir, download.suggestedFilename());
    await download.saveAs(file);
    assert.equal(readFileSync(file).subarray(0, 5).toString(), "%PDF-", name);
  }

  // Member territories: declared with their délibération (a missing one is explained), a PDF
  // attached, and the first stage of a two-stage allocation previewed.
  await funder.getByRole("link", { name: "Territoires membres" }).click();
  await funder.getByRole("heading", { name: `Territoires membres de la commande n° ${id}` }).waitFor();
  await axe(funder, "territoires-vide");
  await funder.getByLabel(/Nom du territoire/).fill("Villeurbanne");
  await funder.getByLabel(/^Communes/).fill("69266");
  await funder.getByRole("button", { name: "Déclarer ce territoire" }).click();
  await funder.locator("#erreurs").waitFor();
  assert.match(await funder.locator("#deliberation-erreur").textContent(), /délibération d'adhésion/);
  assert.equal(await funder.getByLabel(/Nom du territoire/).inputValue(), "Villeurbanne");
  await axe(funder, "territoires-erreurs");
  await funder.locator("#deliberation").fill("2026-045");
  await funder.locator("#deliberation_date").fill("12/03/2026");
  await funder.getByRole("button", { name: "Déclarer ce territoire" }).click();
  await funder.getByRole("heading", { name: "Territoire Villeurbanne" }).waitFor();
  const deliberation = join(dir, "deliberation.pdf");
  writeFileSync(deliberation, "%PDF-1.4\n% délibération\n");
  await funder.getByLabel("Nature de la pièce").selectOption("deliberation");
  await funder.getByLabel(/Fichier PDF/).setInputFiles(deliberation);
  await funder.getByRole("button", { name: "Joindre la pièce" }).click();
  await funder.getByRole("link", { name: "deliberation.pdf" }).waitFor();
  await axe(funder, "territoire");
  await funder.screenshot({ path: join(shots, "territoire.png"), fullPage: true });
  // A territory declared by mistake is withdrawn once the confirmation is ticked (here the one
  // just declared, its piece with it), then declared again.
  await funder.getByRole("button", { name: "Retirer le territoire" }).click();
  await funder.locator("#confirmation-erreur").waitFor();
  await axe(funder, "territoire-retrait-erreur");
  await tick(funder, funder.getByLabel(/Je confirme le retrait du territoire « Villeurbanne »/));
  await funder.getByRole("button", { name: "Retirer le territoire" }).click();
  await funder.getByRole("heading", { name: `Territoires membres de la commande n° ${id}` }).waitFor();
  assert.equal(await funder.getByRole("link", { name: "Villeurbanne" }).count(), 0);
  await funder.getByLabel(/Nom du territoire/).fill("Villeurbanne");
  await funder.getByLabel(/^Communes/).fill("69266");
  await funder.locator("#deliberation").fill("2026-045");
  await funder.locator("#deliberation_date").fill("12/03/2026");
  await funder.getByRole("button", { name: "Déclarer ce territoire" }).click();
  await funder.getByRole("heading", { name: "Territoire Villeurbanne" }).waitFor();
  await funder.getByRole("link", { name: /Retour aux territoires/ }).click();
  await funder.getByRole("link", { name: "Répartir entre les territoires" }).click();
  await funder.getByRole("heading", { name: /entre les territoires membres/ }).waitFor();
  await funder.getByRole("button", { name: "Voir l'aperçu" }).click();
  assert.match(await funder.locator("table tbody tr").first().textContent(), /Villeurbanne/);
  await axe(funder, "territoires-repartition-apercu");
  await funder.goto(base + `/commanditaire/commandes/${id}`);

  // Sharing the booklets: a wrong criteria table is explained, then a previewed key is committed.
  await funder.getByRole("link", { name: "Répartir entre les distributeurs" }).click();
  await funder.getByRole("heading", { name: /Répartir les carnets/ }).waitFor();
  await axe(funder, "repartition");
  await funder.getByLabel(/Autres critères/).fill("structure;qpv\n999;10");
  await funder.getByRole("button", { name: "Voir l'aperçu" }).click();
  assert.match(await funder.locator("#criteres-erreur").textContent(), /n'existe pas/);
  await funder.getByLabel(/Autres critères/).fill("structure;qpv\n1;3000\n2;1000\n3;2000");
  await funder.getByLabel(/Poids des critères/).fill("qpv=30");
  await funder.getByRole("button", { name: "Voir l'aperçu" }).click();
  const previewRows = funder.locator("table tbody tr");
  assert.equal(await previewRows.count(), 3);
  await axe(funder, "repartition-apercu");
  await funder.screenshot({ path: join(shots, "repartition-apercu.png"), fullPage: true });
  await funder.getByRole("button", { name: "Enregistrer cette répartition" }).click();
  await funder.getByRole("heading", { name: `Commande n° ${id}` }).waitFor();
  assert.equal((await funder.locator("#stock").textContent()).trim(), "0");

  // A booklet declared lost: its ten cheques are blocked at once.
  await funder.getByLabel(/Numéro du carnet/).fill("4");
  await tick(funder, funder.getByLabel("Volé"));
  await tick(funder, funder.getByLabel(/Je confirme : les chèques non utilisés/));
  await funder.getByRole("button", { name: "Bloquer le carnet" }).click();
  await funder.getByRole("heading", { name: `Commande n° ${id}` }).waitFor();
  const row = funder.locator("table").last().locator("tbody tr").nth(3);
  assert.equal((await row.locator("td").nth(3).textContent()).trim(), "10", "10 blocked cheques in booklet 4");
  await axe(funder, "commande-carnet-bloque");

  // The scan page checks a QR payload's signature before sending anything.
  const mediator = await signIn("mediateur@demo.passnum.fr", "demo-mediateur-2026");
  let posts = 0;
  mediator.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/lieu/encaisser")) posts++; });
  const forged = payload.replace(/:1000:/, ":5000:");
  await mediator.getByLabel(/Code du pass/).fill(forged);
  await mediator.getByLabel("Service rendu").selectOption("2.1.07");
  await mediator.getByRole("button", { name: "Encaisser" }).click();
  await mediator.locator("#verification-locale", { hasText: "pas un chèque authentique" }).waitFor();
  assert.equal(posts, 0, "a forged cheque is refused before any request");
  await axe(mediator, "lieu-faux-cheque");
  await mediator.screenshot({ path: join(shots, "lieu-faux-cheque.png"), fullPage: true });
  assert.equal(posts, 0);

  // The genuine cheque through the camera, on a browser that has loaded nothing yet (the
  // mediator's session only), counting every byte the scan page costs until the first scan.
  // Chromium on Linux has no BarcodeDetector, like an iPhone or Firefox: the page loads the
  // vendored decoder, only when the camera opens.
  const cold = await browser.newContext({ locale: "fr-FR" });
  await cold.addCookies(await mediator.context().cookies());
  const scan = watched(await cold.newPage());
  const sizes = [];
  scan.on("requestfinished", (r) => sizes.push(r.sizes().then((z) => ({ url: r.url(), bytes: z.responseBodySize + z.responseHeadersSize }))));
  scan.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/lieu/encaisser")) posts++; });
  await scan.goto(base + "/lieu");
  assert.equal(await scan.evaluate(() => "BarcodeDetector" in window), false, "the fallback decoder is what runs here");
  await scan.getByLabel("Service rendu").selectOption("2.1.07");
  await scan.getByRole("button", { name: "Scanner le QR code avec la caméra" }).click();
  await scan.waitForFunction((p) => document.getElementById("code").value === p, payload, { timeout: 20000 });
  assert.equal(await scan.locator("video").count(), 0, "the camera stops once the code is read");
  await scan.waitForLoadState("networkidle");
  const loaded = await Promise.all(sizes);
  const total = loaded.reduce((a, z) => a + z.bytes, 0);
  assert.ok(loaded.some((z) => z.url.endsWith("/jsQR.min.js")), "the decoder was loaded");
  console.log(`# scan page until the first scan, decoder included: ${loaded.length} files, ${total} bytes`);
  assert.ok(total < 300 * 1024, `the scan page costs under 300 KB before the first scan: ${total} bytes\n${loaded.map((z) => `${z.bytes} ${z.url}`).join("\n")}`);
  await axe(scan, "lieu-camera");
  await scan.getByRole("button", { name: "Encaisser" }).click();
  await scan.locator("#resultat[data-result=accepte]").waitFor();
  assert.equal(posts, 1);
});

test("an agent hands a booklet out after the diagnostic and prints the orientation slip; the funder sees it", async () => {
  const agent = await signIn("agent@demo.passnum.fr", "demo-agent-2026");
  assert.ok(agent.url().endsWith("/structure"), agent.url());
  await axe(agent, "structure");
  await agent.screenshot({ path: join(shots, "structure.png"), fullPage: true });
  await agent.goto(base + "/structure/remise");
  await axe(agent, "remise");
  // Nothing answered: an error summary, nothing handed out.
  await agent.getByRole("button", { name: /Remettre le carnet/ }).click();
  await agent.locator("#erreurs").waitFor();
  await axe(agent, "remise-erreurs");
  await agent.getByLabel("Carnet remis").selectOption({ index: 1 });
  await tick(agent, agent.getByLabel(/Faire ses démarches en ligne/));
  await tick(agent, agent.getByLabel("Un téléphone mobile seulement"));
  await tick(agent, agent.getByLabel(/N'a jamais utilisé/));
  await tick(agent, agent.getByLabel(/Personne âgée/));
  await agent.getByLabel("Code postal de la personne").fill("69003");
  await tick(agent, agent.getByLabel(/La personne accepte/));
  // 69003 is Lyon 3e Arrondissement: no commune to choose between the city and its arrondissement.
  await agent.getByRole("button", { name: /Remettre le carnet/ }).click();
  await agent.waitForURL(/\/structure\/remises\/\d+$/);
  await agent.getByRole("heading", { name: "Médiathèque de la Part-Dieu" }).waitFor();
  await agent.getByText("dans la même commune").first().waitFor();
  await axe(agent, "orientation");
  await agent.screenshot({ path: join(shots, "orientation.png"), fullPage: true });
  // The slip prints without the site's header, menu or buttons.
  assert.ok(await agent.locator("button[data-print]").isVisible());
  await agent.emulateMedia({ media: "print" });
  assert.equal(await agent.locator("header.fr-header").isVisible(), false);
  assert.equal(await agent.locator("button[data-print]").isVisible(), false);
  await agent.getByRole("heading", { name: "Médiathèque de la Part-Dieu" }).waitFor();
  // Printed, it fits one A4 page, with the validity end and where to check the pass.
  const slip = join(dir, "fiche.pdf");
  await agent.pdf({ path: slip, format: "A4", preferCSSPageSize: true });
  await agent.emulateMedia({ media: "screen" });
  assert.match(execFileSync("pdfinfo", [slip]).toString(), /^Pages:\s+1$/m, "the slip prints on one A4 page");
  const text = execFileSync("pdftotext", ["-layout", slip, "-"]).toString();
  assert.match(text, /valables jusqu'au \d\d\/\d\d\/\d{4}/);
  assert.match(text, /Vérifier mon pass .*\/verifier/);
  assert.ok((text.match(/Ce lieu propose/g) || []).length >= 3, `three venues or more on the page:\n${text}`);
  // The structure follows its own booklets on its home page: one more handed out.
  await agent.goto(base + "/structure");
  const follow = agent.getByRole("table", { name: /Les carnets confiés à votre structure/ });
  const handedOut = Number(await follow.getByRole("row", { name: /Remis à une personne/ }).getByRole("cell").textContent());
  assert.ok(handedOut >= 1, `handed out: ${handedOut}`);
  await agent.setViewportSize({ width: 320, height: 800 });
  await axe(agent, "structure-suivi-320");
  await agent.setViewportSize({ width: 1280, height: 900 });

  const funder = await signIn("commanditaire@demo.passnum.fr", "demo-commanditaire-2026");
  await funder.goto(base + "/commanditaire/commandes/1");
  assert.equal(await funder.locator("#remis").textContent(), "1");
  await axe(funder, "commande-remises");
  await funder.screenshot({ path: join(shots, "commande-remises.png"), fullPage: true });
});

test("the demo funder defines a public of its own with an age band; the counter offers it and checks the age", async () => {
  const funder = await signIn("commanditaire@demo.passnum.fr", "demo-commanditaire-2026");
  await funder.goto(base + "/commanditaire/commandes/1");
  await funder.getByRole("link", { name: "définir les publics" }).click();
  await funder.getByRole("heading", { name: "Publics de la commande n° 1" }).waitFor();
  assert.match(await funder.locator("table").textContent(), /Parents d'élèves en quartier prioritaire/);
  await axe(funder, "publics");
  // A national public is refused, with the national one named and the input kept.
  await funder.getByLabel(/Nom du public/).fill("Demandeurs d'emploi");
  await funder.getByRole("button", { name: "Ajouter ce public" }).click();
  await funder.locator("#erreurs").waitFor();
  assert.match(await funder.locator("#libelle-erreur").textContent(), /déjà un public national/);
  assert.equal(await funder.getByLabel(/Nom du public/).inputValue(), "Demandeurs d'emploi");
  await axe(funder, "publics-erreurs");
  await funder.getByLabel(/Nom du public/).fill("Jeunes des quartiers");
  await funder.getByLabel("De", { exact: true }).fill("16");
  await funder.getByLabel("à (ans)", { exact: true }).fill("25");
  await funder.getByLabel(/Critères/).fill("Suivis par la mission locale");
  await funder.getByRole("button", { name: "Ajouter ce public" }).click();
  await funder.getByRole("link", { name: "Jeunes des quartiers" }).click();
  await funder.getByRole("heading", { name: "Modifier « Jeunes des quartiers »" }).waitFor();
  await axe(funder, "public-modifier");
  await funder.screenshot({ path: join(shots, "public-modifier.png"), fullPage: true });

  const agent = await signIn("agent@demo.passnum.fr", "demo-agent-2026");
  await agent.goto(base + "/structure/remise");
  const own = agent.getByLabel(/Jeunes des quartiers \(16 à 25 ans\)/);
  await agent.getByText("Suivis par la mission locale").waitFor();
  await agent.getByLabel("Carnet remis").selectOption({ index: 1 });
  await tick(agent, agent.getByLabel(/Envoyer des courriels/));
  await tick(agent, agent.getByLabel("Aucun équipement"));
  await tick(agent, agent.getByLabel(/N'a jamais utilisé/));
  await tick(agent, own);
  await agent.getByLabel(/Date de naissance \(facultative\)/).fill("01/01/1990");
  await agent.getByLabel("Code postal de la personne").fill("69003");
  await tick(agent, agent.getByLabel(/La personne accepte/));
  await agent.getByRole("button", { name: /Remettre le carnet/ }).click();
  await agent.locator("#erreurs").waitFor();
  assert.match(await agent.locator("#erreurs").textContent(), /La personne a \d\d ans : le public « Jeunes des quartiers » est réservé aux 16 à 25 ans/);
  assert.ok(await own.isChecked(), "the answers are kept");
  await axe(agent, "remise-tranche-age");
  await agent.screenshot({ path: join(shots, "remise-tranche-age.png"), fullPage: true });
});

test("the demo's référente territoriale shares her territory's booklets among its structures", async () => {
  const ref = await signIn("referente@demo.passnum.fr", "demo-referente-2026");
  await ref.getByRole("heading", { name: "Territoire Ville de Vaulx-en-Velin" }).waitFor();
  assert.equal((await ref.locator("#stock").textContent()).trim(), "10");
  await axe(ref, "territoire-referente");
  await ref.screenshot({ path: join(shots, "territoire-referente.png"), fullPage: true });
  await ref.getByRole("link", { name: "répartir entre les structures" }).click();
  await ref.getByRole("heading", { name: /Répartir les carnets du territoire/ }).waitFor();
  await ref.getByRole("button", { name: "Voir l'aperçu" }).click();
  const rows = ref.locator("table tbody tr");
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().textContent(), /Médiathèque de Vaulx-en-Velin/);
  await axe(ref, "territoire-referente-apercu");
  await ref.getByRole("button", { name: "Enregistrer cette répartition" }).click();
  await ref.getByRole("heading", { name: "Territoire Ville de Vaulx-en-Velin" }).waitFor();
  assert.equal((await ref.locator("#stock").textContent()).trim(), "0");
  await axe(ref, "territoire-referente-reparti");
});

test("a venue applies from a phone, the operator asks for more, then qualifies it", async () => {
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 375, height: 800 } });
  const page = watched(await context.newPage());
  await visit(page, "/candidature", "candidature-375");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 375), "no sideways scroll at 375 px");
  // Sent half-filled: an error summary at the top, each field says what to do.
  await page.getByLabel(/Numéro SIRET/).fill("123");
  await page.getByRole("button", { name: "Envoyer la candidature" }).click();
  await page.getByText(/Le formulaire contient \d+ erreurs/).waitFor();
  await axe(page, "candidature-erreurs");
  await page.getByLabel(/Numéro SIRET/).fill("W691234567");
  await page.getByLabel("Nom du lieu").fill("Association Clic et Lien");
  await page.getByLabel(/Représentant légal/).fill("Marie Dupont, présidente");
  await page.getByLabel(/^Adresse/).fill("3 rue Gambetta");
  await page.getByLabel(/Code postal/).fill("69003");
  await page.getByLabel(/Prendre rendez-vous/).fill("04 72 00 00 00");
  await page.locator("select[name='s_2.1.07']").selectOption("collective");
  await page.getByLabel(/Statuts, attestation/).setInputFiles({ name: "statuts.pdf", mimeType: "application/pdf", buffer: Buffer.from("%PDF-1.4 statuts") });
  await page.getByLabel("Votre nom").fill("Marie Dupont");
  await page.getByLabel("Votre adresse électronique").fill("marie@clic-et-lien.fr");
  await page.getByLabel(/^Mot de passe/).fill("une phrase assez longue");
  await page.getByText("J'ai lu la charte et l'accepte").click();
  await page.getByRole("button", { name: "Envoyer la candidature" }).click();
  await page.getByText("Candidature enregistrée").waitFor();
  await axe(page, "lieu-dossier-depose");
  await page.screenshot({ path: join(shots, "lieu-dossier-375.png"), fullPage: true });

  const op = await signIn("operateur@demo.passnum.fr", "demo-operateur-2026");
  await visit(op, "/operateur/lieux", "operateur-file-candidatures");
  await op.getByRole("link", { name: "Association Clic et Lien" }).click();
  await op.getByText("RNA W691234567").waitFor();
  await axe(op, "operateur-dossier-lieu");
  await tick(op, op.getByLabel("Demander un complément au lieu"));
  await op.getByLabel(/^Motif/).fill("Joignez vos statuts signés.");
  await op.getByRole("button", { name: "Enregistrer la décision" }).click();
  await op.getByText("En attente du lieu").first().waitFor();

  await page.goto(base + "/lieu/dossier");
  await page.locator(".fr-callout__text", { hasText: "Joignez vos statuts signés." }).waitFor();
  await page.getByLabel(/Votre réponse/).fill("Statuts signés joints.");
  await page.getByRole("button", { name: "Envoyer la réponse" }).click();
  await page.getByText(/votre candidature revient/).waitFor();
  await axe(page, "lieu-dossier-reponse");

  await op.reload();
  await tick(op, op.getByLabel("Qualifier", { exact: true }));
  await op.getByRole("button", { name: "Enregistrer la décision" }).click();
  await op.getByText(/Qualifié — dernier jour/).waitFor();
  await op.setViewportSize({ width: 320, height: 800 });
  await op.reload();
  await axe(op, "operateur-dossier-lieu-320");
  await op.screenshot({ path: join(shots, "operateur-dossier-lieu-320.png"), fullPage: true });
  assert.ok(await op.evaluate(() => document.documentElement.scrollWidth <= 320), "no sideways scroll at 320 px");
});

test("a mediator publishes a workshop from a phone, a person books one, the scan takes one cheque per booklet", async () => {
  const m = await signIn("mediateur@demo.passnum.fr", "demo-mediateur-2026");
  await m.setViewportSize({ width: 375, height: 800 });
  await visit(m, "/lieu/ateliers", "lieu-ateliers-375");
  assert.ok(await m.evaluate(() => document.documentElement.scrollWidth <= 375), "no sideways scroll at 375 px");
  // Nothing filled in: every problem in the summary, the page still accessible.
  await m.getByRole("button", { name: "Publier" }).click();
  await m.locator("#erreurs").waitFor();
  await axe(m, "lieu-ateliers-erreurs");
  // Today in Paris, late: the scan page offers it at once.
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Europe/Paris" });
  await m.getByLabel(/^Titre/).fill("Atelier du soir");
  await tick(m, m.locator("#svc_2\\.1\\.07"));
  await m.getByLabel(/^Date la première/).fill(today);
  await m.getByLabel(/^Heure de début/).fill("23:59");
  await m.getByLabel(/^Nombre de places/).fill("2");
  await m.getByRole("button", { name: "Publier" }).click();
  await m.getByText("1 atelier publié.").waitFor();
  await m.getByRole("link", { name: "Atelier du soir" }).click();
  await m.getByRole("heading", { name: "Atelier du soir", level: 1 }).waitFor();
  await axe(m, "lieu-atelier-375");

  // A person books the demo's workshop of tomorrow with the booklet's cover, on a small phone.
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 320, height: 800 } });
  const person = watched(await context.newPage());
  await visit(person, "/lieux/1", "lieu-fiche-ateliers-320");
  await person.getByRole("link", { name: /Premiers pas sur la tablette/ }).first().click();
  await person.getByRole("heading", { name: "Premiers pas sur la tablette", level: 1 }).waitFor();
  await axe(person, "atelier-320");
  assert.ok(await person.evaluate(() => document.documentElement.scrollWidth <= 320), "no sideways scroll at 320 px");
  await person.getByLabel(/^Numéro du carnet/).fill(trial.booklet);
  await person.getByLabel(/^Code de réservation/).fill("AAAA-AAAA");
  await person.getByRole("button", { name: "Réserver" }).click();
  await person.locator("#erreurs").waitFor();
  await axe(person, "atelier-erreurs-320");
  await person.getByLabel(/^Code de réservation/).fill(trial.code.toLowerCase());
  await person.getByRole("button", { name: "Réserver" }).click();
  await person.locator("#reservation-faite").waitFor();
  await axe(person, "atelier-reserve-320");
  await person.goto(base + "/mes-reservations");
  await person.getByLabel(/^Numéro du carnet/).fill(trial.booklet);
  await person.getByLabel(/^Code de réservation/).fill(trial.code);
  await person.getByRole("button", { name: "Voir mes réservations" }).click();
  await person.getByText(/Premiers pas sur la tablette.*Place réservée/).waitFor();
  await axe(person, "mes-reservations-320");

  // The scan page opens on today's workshop: the booklet's first cheque is accepted, its second refused.
  await m.goto(base + "/lieu");
  assert.match(await m.locator("#atelier option:checked").textContent(), /Atelier du soir/);
  await m.getByLabel(/Code du pass/).fill(trial.cheques[0]);
  await m.getByLabel("Service rendu").selectOption("2.1.07");
  await m.getByRole("button", { name: "Encaisser" }).click();
  await m.locator("#resultat[data-result=accepte]").waitFor();
  await m.getByLabel(/Code du pass/).fill(trial.cheques[1]);
  await m.getByLabel("Service rendu").selectOption("2.1.07");
  await m.getByRole("button", { name: "Encaisser" }).click();
  await m.locator("#resultat[data-result=refuse]").waitFor();
  assert.match(await m.locator("#resultat").textContent(), /un seul chèque par carnet et par atelier/);
  await axe(m, "lieu-atelier-refuse-375");
});

test("a mediator fills last week's activity record on a phone and downloads the month for the Coop", async () => {
  const m = await signIn("mediateur@demo.passnum.fr", "demo-mediateur-2026");
  await m.setViewportSize({ width: 375, height: 800 });
  await m.goto(base + "/lieu/ateliers");
  await m.getByRole("link", { name: "Ateliers passés et comptes rendus" }).click();
  const lastWeek = new Date(Date.now() - 7 * 86400000).toLocaleDateString("sv-SE", { timeZone: "Europe/Paris" }).slice(0, 7);
  await m.getByLabel("Mois").selectOption(lastWeek);
  await m.getByRole("button", { name: "Afficher ce mois" }).click();
  await m.getByText(/sans compte rendu/).waitFor();
  await axe(m, "lieu-activite-375");
  await m.screenshot({ path: join(shots, "lieu-activite-375.png"), fullPage: true });
  assert.ok(await m.evaluate(() => document.documentElement.scrollWidth <= 375), "no sideways scroll at 375 px");
  await m.getByRole("link", { name: /^Remplir le compte rendu de Envoyer un courriel/ }).click();
  await m.getByRole("heading", { name: "Compte rendu de l'atelier", level: 1 }).waitFor();
  assert.equal(await m.getByLabel(/^Nombre de participants/).inputValue(), "2", "prefilled from the two scans");
  await axe(m, "lieu-compte-rendu-375");
  // Fewer than the scans and no theme: both said in the summary, the page still accessible.
  await m.getByLabel(/^Nombre de participants/).fill("1");
  await m.getByRole("button", { name: "Enregistrer le compte rendu" }).click();
  await m.locator("#erreurs").waitFor();
  assert.match(await m.locator("#erreurs").textContent(), /indiquez au moins 2 participants[\s\S]*au moins une thématique/);
  await axe(m, "lieu-compte-rendu-erreurs-375");
  await m.getByLabel(/^Nombre de participants/).fill("3");
  await tick(m, m.locator("#theme_email"));
  await tick(m, m.locator("#equipment_ordinateur"));
  await m.locator("#age_1").selectOption("soixante_dix_plus");
  await m.locator("#autonomy_1").selectOption("partiellement_autonome");
  await m.getByRole("button", { name: "Enregistrer le compte rendu" }).click();
  await m.getByText("Compte rendu enregistré.").waitFor();
  await axe(m, "lieu-atelier-compte-rendu-375");
  await m.setViewportSize({ width: 320, height: 800 });
  await m.getByRole("link", { name: "Corriger le compte rendu" }).click();
  await m.getByRole("heading", { name: "Compte rendu de l'atelier", level: 1 }).waitFor();
  assert.ok(await m.evaluate(() => document.documentElement.scrollWidth <= 320), "no sideways scroll at 320 px");
  await axe(m, "lieu-compte-rendu-320");
  await m.screenshot({ path: join(shots, "lieu-compte-rendu-320.png"), fullPage: true });

  // The month for the Coop: the workshop, its theme and the band given.
  await m.goto(base + "/lieu/activite?mois=" + lastWeek);
  const [download] = await Promise.all([
    m.waitForEvent("download"),
    m.getByRole("link", { name: /pour la Coop de la médiation numérique/ }).click(),
  ]);
  const coop = JSON.parse(readFileSync(await download.path(), "utf8"));
  const activity = coop.data.find((a) => a.attributes.titre_atelier === "Envoyer un courriel avec une pièce jointe");
  assert.ok(activity, JSON.stringify(coop));
  assert.deepEqual(activity.attributes.thematiques, ["email"]);
  assert.equal(activity.attributes.beneficiaires.tranches_age.soixante_dix_plus, 1);
  assert.equal(activity.attributes.accompagnements, 3);
});

test("the funder and the operator read the programme's figures, charts with their tables", async () => {
  const funder = await signIn("commanditaire@demo.passnum.fr", "demo-commanditaire-2026");
  await funder.getByRole("link", { name: "Chiffres" }).click();
  await funder.getByRole("heading", { name: "Chiffres du programme", level: 1 }).waitFor();
  await axe(funder, "commanditaire-chiffres");
  await funder.screenshot({ path: join(shots, "commanditaire-chiffres.png"), fullPage: true });
  assert.equal(await funder.locator("svg.pn-chart").count(), 2);
  // The demo's workshop held last week used two cheques of two booklets (earlier tests, more).
  const used = (await funder.getByRole("row", { name: /Avec au moins un chèque utilisé/ }).textContent()).match(/utilisé(\d+)/);
  assert.ok(used && Number(used[1]) >= 2, used?.input);
  await funder.setViewportSize({ width: 320, height: 800 });
  await funder.reload();
  await axe(funder, "commanditaire-chiffres-320");
  assert.ok(await funder.evaluate(() => document.querySelector("svg.pn-chart").getBoundingClientRect().width <= 320), "the chart fits a small phone");
  await funder.screenshot({ path: join(shots, "commanditaire-chiffres-320.png"), fullPage: true });
  // Every view at a phone's width: menu, charts, tables, downloads.
  for (const [view, name] of [["Territoires et publics", "territoires"], ["Lieux et services", "lieux"], ["Usage des carnets", "usage"]]) {
    await funder.getByRole("link", { name: view }).click();
    await funder.getByRole("heading", { name: view, level: 2 }).waitFor();
    assert.equal(await funder.getByRole("link", { name: view }).getAttribute("aria-current"), "page");
    await axe(funder, `commanditaire-chiffres-${name}-320`);
    assert.ok(await funder.evaluate(() => document.documentElement.scrollWidth <= 320), `${name}: no sideways scroll at 320 px`);
    await funder.screenshot({ path: join(shots, `commanditaire-chiffres-${name}-320.png`), fullPage: true });
  }
  // Usage: booklets by cheques used, 0 to 10+; the spreadsheet of it downloads.
  assert.equal(await funder.getByRole("table", { name: "Carnets remis selon le nombre de chèques utilisés" }).locator("tbody tr").count(), 11);
  const [sheet] = await Promise.all([
    funder.waitForEvent("download"),
    funder.locator("a[href*='tableau=profondeur'][href*='.xlsx']").click(),
  ]);
  assert.equal(sheet.suggestedFilename(), "chiffres-profondeur.xlsx");
  assert.equal(readFileSync(await sheet.path()).subarray(0, 2).toString(), "PK", "an XLSX is a zip");
  await funder.setViewportSize({ width: 1280, height: 900 });
  await funder.getByRole("link", { name: "Territoires et publics" }).click();
  await funder.getByLabel("Regrouper les communes par").selectOption("departement");
  await funder.getByRole("button", { name: "Afficher" }).click();
  await funder.getByRole("heading", { name: "Par département de résidence" }).waitFor();
  await axe(funder, "commanditaire-chiffres-departements");
  const operator = await signIn("operateur@demo.passnum.fr", "demo-operateur-2026");
  await visit(operator, "/operateur/chiffres", "operateur-chiffres");
  assert.match(await operator.locator("main").textContent(), /Tout le programme/);
  await visit(operator, "/operateur/chiffres?vue=lieux", "operateur-chiffres-lieux");
  // Anomalies, then an observer created and opened to the Métropole's figures, from the pages.
  await visit(operator, "/operateur/anomalies", "operateur-anomalies");
  await operator.getByRole("link", { name: "Observateurs" }).click();
  await operator.getByLabel("Nom").fill("Programme Société Numérique");
  await operator.getByRole("button", { name: "Ajouter" }).click();
  const row = operator.getByRole("row", { name: /Programme Société Numérique/ });
  await row.getByRole("cell", { name: "Aucun commanditaire" }).waitFor();
  await row.getByLabel("Commanditaire").selectOption({ index: 1 });
  await row.getByRole("button", { name: "Ouvrir ses chiffres" }).click();
  await operator.getByRole("row", { name: /Programme Société Numérique/ }).getByRole("cell", { name: /^Métropole/ }).waitFor();
  // A territory too: a code that names nothing gets a sentence on its field, then the Rhône.
  let hubRow = operator.getByRole("row", { name: /Programme Société Numérique/ });
  await hubRow.getByLabel("Niveau du territoire").selectOption("departement");
  await hubRow.getByLabel(/^Code/).fill("999");
  await hubRow.getByRole("button", { name: "Ouvrir le territoire" }).click();
  await operator.locator(".fr-error-text", { hasText: "Aucun territoire de niveau « département » ne porte le code « 999 »" }).waitFor();
  await axe(operator, "operateur-observateurs-erreur");
  hubRow = operator.getByRole("row", { name: /Programme Société Numérique/ });
  await hubRow.getByLabel(/^Code/).fill("69");
  await hubRow.getByRole("button", { name: "Ouvrir le territoire" }).click();
  await operator.getByRole("row", { name: /Programme Société Numérique/ }).getByText("Territoires : Rhône (département)").waitFor();
  await axe(operator, "operateur-observateurs");
  await operator.screenshot({ path: join(shots, "operateur-observateurs.png"), fullPage: true });
  // The demo's territorial hub signs in and lands on the figures it is granted.
  const hub = await signIn("observatoire@demo.passnum.fr", "demo-observatoire-2026");
  await hub.getByRole("heading", { name: "Chiffres du programme", level: 1 }).waitFor();
  assert.match(hub.url(), /\/observatoire\/chiffres/);
  assert.match(await hub.locator("main").textContent(), /Les commandes de Métropole de Lyon/);
  await axe(hub, "observatoire-chiffres");
  // The funder's sources of funding, per year, on a phone.
  await funder.setViewportSize({ width: 375, height: 800 });
  await visit(funder, "/commanditaire/financements", "commanditaire-financements-375");
  assert.match(await funder.locator("main").textContent(), /Total/);
  await visit(funder, "/commanditaire/commandes/1/financements", "commanditaire-financements-commande-375");
  // Anyone: the programme's published figures, small counts "secret", at 320 px.
  const anyone = watched(await (await browser.newContext({ locale: "fr-FR", viewport: { width: 320, height: 800 } })).newPage());
  await visit(anyone, "/programme", "programme-320");
  assert.equal(await anyone.locator("svg.pn-chart").count(), 1);
  assert.ok(await anyone.evaluate(() => document.documentElement.scrollWidth <= 320), "/programme: no sideways scroll at 320 px");
});

test("the operator pays a venue from the browser: bank details, run, every statement as a ZIP, the SEPA file", async () => {
  // The venue gives its bank details; the operator confirms them after calling it.
  const mediator = await signIn("mediateur@demo.passnum.fr", "demo-mediateur-2026");
  await mediator.goto(base + "/lieu/paiements");
  await mediator.getByLabel(/^IBAN/).fill("FR76 3000 6000 0112 3456 7890 189");
  await mediator.getByLabel(/^BIC/).fill("AGRIFRPP");
  await mediator.getByLabel("Titulaire du compte").fill("Ville de Lyon");
  await mediator.getByRole("button", { name: /Enregistrer/ }).click();
  await mediator.getByText(/attendent la confirmation de l'opérateur/).waitFor();
  await axe(mediator, "lieu-paiements-en-attente");

  const op = await signIn("operateur@demo.passnum.fr", "demo-operateur-2026");
  await op.goto(base + "/operateur/virements");
  await axe(op, "operateur-virements-coordonnees");
  await op.getByRole("button", { name: /Confirmer les coordonnées de/ }).first().click();
  await op.waitForLoadState();
  // A run up to yesterday, fee as a percentage, prepared then checked on its own page.
  const yesterday = new Date(Date.now() - 86400000).toLocaleDateString("fr-FR", { timeZone: "Europe/Paris" });
  await op.getByLabel(/Date d'arrêté/).fill(yesterday);
  await op.getByLabel(/Commission de l'opérateur/).fill("4");
  await op.getByRole("button", { name: "Préparer le virement" }).click();
  await op.getByRole("heading", { name: /^Virement n° \d+$/ }).waitFor();
  const run = op.url().match(/virements\/(\d+)$/)[1];
  await axe(op, "operateur-virement-brouillon");
  // Confirming without ticking "checked" is refused, with the reason next to the box.
  await op.getByRole("button", { name: "Confirmer le virement" }).click();
  await op.locator("#verifie-erreur").waitFor();
  await axe(op, "operateur-virement-erreur");
  await tick(op, op.getByLabel(/J'ai vérifié les montants/));
  await op.getByRole("button", { name: "Confirmer le virement" }).click();
  await op.getByRole("button", { name: "Télécharger le fichier SEPA" }).waitFor();
  await axe(op, "operateur-virement-confirme");
  // Every statement at once, then the SEPA file from the form.
  const [zip] = await Promise.all([op.waitForEvent("download"), op.getByRole("link", { name: /Tous les relevés de ce virement/ }).click()]);
  assert.equal(zip.suggestedFilename(), `releves-virement-${run}.zip`);
  const zipPath = join(dir, "releves.zip");
  await zip.saveAs(zipPath);
  const listing = execFileSync("python3", ["-c", "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))", zipPath]).toString();
  assert.match(listing, new RegExp(`releve-${run}-lieu-\\d+\\.csv`));
  assert.match(listing, new RegExp(`releve-${run}-lieu-\\d+\\.pdf`));
  await op.getByLabel("Titulaire du compte qui paie").fill("Opérateur du Pass Numérique");
  await op.getByLabel("IBAN du compte qui paie").fill("FR76 3000 6000 0112 3456 7890 189");
  await op.getByLabel(/^BIC/).fill("AGRIFRPP");
  const inTwoDays = new Date(Date.now() + 2 * 86400000).toLocaleDateString("fr-FR", { timeZone: "Europe/Paris" });
  await op.getByLabel("Date d'exécution").fill(inTwoDays);
  const [sepa] = await Promise.all([op.waitForEvent("download"), op.getByRole("button", { name: "Télécharger le fichier SEPA" }).click()]);
  assert.equal(sepa.suggestedFilename(), `virement-${run}.xml`);
  const xmlPath = join(dir, "virement.xml");
  await sepa.saveAs(xmlPath);
  const xml = readFileSync(xmlPath, "utf8");
  assert.match(xml, /<Nm>Ville de Lyon<\/Nm>/);
  assert.match(xml, /<CreDtTm>[^<]+[+-]0[12]:00<\/CreDtTm>/, "Paris time with its offset");
});
