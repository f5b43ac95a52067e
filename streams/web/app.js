// Schakel web page for case coordinators (plain JavaScript, no build step).
// Talks to the worker's API with the token and purpose the user enters; keeps the token in
// memory only. All data is put in the page with textContent (never as HTML).
"use strict";

const REGELS = {
  "werkpotentieel-zonder-verwijzing": {
    titel: "Werkpotentieel zonder verwijzing naar werk & inkomen",
    doel: "Wmo-voorziening én werkpotentieel, maar niet in beeld bij werk & inkomen.",
  },
  "tussen-wal-en-schip": {
    titel: "Tussen wal en schip",
    doel: "Afgewezen door de Wmo én door werk & inkomen, en nergens ondersteuning.",
  },
  "vroegsignaal-zonder-opvolging": {
    titel: "Vroegsignaal zonder opvolging",
    doel: "Betalingsachterstand gemeld, niet op tijd opgevolgd.",
  },
  "meervoudig-zonder-regie": {
    titel: "Meervoudige problematiek zonder regie",
    doel: "Drie of meer domeinen tegelijk actief en niemand heeft de regie.",
  },
  "dagbesteding-zonder-werkstap": {
    titel: "Dagbesteding zonder werkstap",
    doel: "Dagbesteding met werkwens, maar geen stap richting werk.",
  },
  "terugval-zonder-nazorg": {
    titel: "Terugval zonder nazorg",
    doel: "Binnen een half jaar na uitstroom naar werk terug in de uitkering, zonder nazorg.",
  },
};

const TYPEN = {
  "nl.participatiewet.uitkeringen.toegekend": "uitkering toegekend",
  "nl.participatiewet.uitkeringen.beeindigd": "uitkering beëindigd",
  "nl.participatiewet.aanvragen.afgewezen": "aanvraag afgewezen (werk & inkomen)",
  "nl.participatiewet.arbeidsvermogen.vastgesteld": "arbeidsvermogen vastgesteld",
  "nl.participatiewet.verwijzingen.ontvangen": "verwijzing ontvangen (werk & inkomen)",
  "nl.participatiewet.trajecten.gestart": "traject gestart",
  "nl.participatiewet.trajecten.beeindigd": "traject beëindigd",
  "nl.wmo.meldingen.ontvangen": "Wmo-melding ontvangen",
  "nl.wmo.onderzoeken.afgerond": "Wmo-onderzoek afgerond",
  "nl.wmo.aanvragen.afgewezen": "Wmo-aanvraag afgewezen",
  "nl.wmo.voorzieningen.toegewezen": "Wmo-voorziening toegewezen",
  "nl.wmo.voorzieningen.gestart": "Wmo-zorg gestart",
  "nl.wmo.voorzieningen.gestopt": "Wmo-zorg gestopt",
  "nl.wijkteams.casussen.geopend": "casus geopend",
  "nl.wijkteams.casussen.gesloten": "casus gesloten",
  "nl.wijkteams.zrm.vastgesteld": "zelfredzaamheid (ZRM) vastgesteld",
  "nl.wijkteams.verwijzingen.gedaan": "verwijzing door wijkteam",
  "nl.wijkteams.regie.toegewezen": "regie toegewezen",
  "nl.wgs.vroegsignalen.ontvangen": "vroegsignaal ontvangen",
  "nl.wgs.vroegsignalen.opgevolgd": "vroegsignaal opgevolgd",
  "nl.wgs.trajecten.gestart": "schuldhulptraject gestart",
  "nl.wgs.trajecten.beeindigd": "schuldhulptraject beëindigd",
};

const DOMEINEN = {
  participatiewet: "werk & inkomen",
  wmo: "Wmo",
  wijkteams: "wijkteam",
  wgs: "schulden",
};

const FOUTEN = {
  400: "Ongeldig verzoek — is het doel van de inzage ingevuld?",
  401: "Niet aangemeld — het API-token ontbreekt of is onbekend.",
  403: "Geen toegang — deze pagina is voor regisseurs; uw rol mag dit niet lezen.",
  404: "Niet gevonden.",
  500: "Interne fout van de worker.",
  502: "Geen geldig antwoord van de worker via een tussenliggende server; probeer het later opnieuw.",
  503: "Tijdelijk niet beschikbaar; probeer het zo opnieuw.",
};

// What a 502 or 503 of the worker means, by the field its `fout` names (the text before the
// colon: streams/api.py, streams/routing.py). Another (e.g. a reverse proxy's own 502, without
// `fout`) gets the status's general text above.
const REDENEN = {
  502: {
    schemaregister: "Verkeerd ingesteld — het schemaregister weigert de worker. Dit gaat niet " +
      "vanzelf over: meld het aan de beheerder.",
  },
  503: {
    inzage: "Tijdelijk niet beschikbaar — de inzage kon niet worden vastgelegd, dus worden " +
      "er geen gegevens getoond; probeer het zo opnieuw.",
    tijdlijn: "Tijdelijk niet beschikbaar — de worker die deze burger bijhoudt is nu niet " +
      "bereikbaar; probeer het zo opnieuw.",
    signalen: "Nog niet beschikbaar — de worker is de signalen nog aan het bijwerken; " +
      "probeer het zo opnieuw.",
    pseudoniem: "Nog niet beschikbaar — de worker is nog niet gereed (hij start of krijgt " +
      "burgers toegewezen); probeer het zo opnieuw.",
  },
};

// The explanation of an answer that is not ok: by its status and the field its `fout` names.
function uitleg(status, inhoud) {
  const redenen = REDENEN[status];
  const veld = inhoud && typeof inhoud.fout === "string" ? inhoud.fout.split(":")[0] : "";
  const eigen = (object, sleutel) => Object.prototype.hasOwnProperty.call(object, sleutel);
  if (redenen && eigen(redenen, veld)) return redenen[veld];
  return eigen(FOUTEN, status) ? FOUTEN[status] : "Fout van de API.";
}

const staat = { token: "", doel: "", signalen: [] };

function $(id) {
  return document.getElementById(id);
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-") || key.startsWith("aria-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}

class ApiFout extends Error {
  constructor(status, melding) {
    super(melding);
    this.status = status;
  }
}

async function api(pad) {
  // a header carries Latin-1 only; the worker reads it as such
  if (/[^\u0020-\u007e\u00a0-\u00ff]/.test(staat.doel)) {
    throw new ApiFout(400, "400 — Het doel bevat tekens die niet in een verzoek passen.");
  }
  let antwoord;
  try {
    antwoord = await fetch(pad, {
      headers: {
        Authorization: "Bearer " + staat.token,
        "X-Doel": staat.doel,
        Accept: "application/json",
      },
    });
  } catch (fout) {
    throw new ApiFout(0, "De worker is niet bereikbaar (" + fout.message + ").");
  }
  let inhoud = null;
  try {
    inhoud = await antwoord.json();
  } catch (fout) {
    inhoud = null;
  }
  if (!antwoord.ok) {
    const detail = inhoud && inhoud.fout ? " (" + inhoud.fout + ")" : "";
    throw new ApiFout(antwoord.status,
      antwoord.status + " — " + uitleg(antwoord.status, inhoud) + detail);
  }
  return inhoud;
}

function toonFout(fout) {
  const vak = $("fout");
  vak.textContent = fout instanceof ApiFout ? fout.message : "Fout: " + fout;
  vak.dataset.status = fout instanceof ApiFout ? String(fout.status) : "";
  vak.hidden = false;
}

function wisFout() {
  $("fout").hidden = true;
  $("fout").textContent = "";
}

function kort(pseudoniem) {
  return pseudoniem.slice(0, 8) + "…" + pseudoniem.slice(-4);
}

// all signals matching `filters` (status, regel, van, tot: query parameters of the API)
async function haalSignalen(filters) {
  const alle = [];
  let pagina = 1;
  for (;;) {
    const query = new URLSearchParams({ pagina: String(pagina), per_pagina: "500" });
    for (const [naam, waarde] of Object.entries(filters)) {
      if (waarde) query.set(naam, waarde);
    }
    const deel = await api("/api/v1/signalen?" + query.toString());
    alle.push(...deel.signalen);
    if (alle.length >= deel.totaal || deel.signalen.length === 0) break;
    pagina += 1;
  }
  return alle;
}

function toonSignalen(signalen) {
  const regels = $("regels");
  const samenvatting = $("samenvatting");
  regels.replaceChildren();
  samenvatting.replaceChildren();
  const perRegel = new Map();
  for (const id of Object.keys(REGELS)) perRegel.set(id, []);
  for (const s of signalen) {
    if (!perRegel.has(s.regel)) perRegel.set(s.regel, []);
    perRegel.get(s.regel).push(s);
  }
  samenvatting.append(el("span", { class: "teller" }, el("b", { text: String(signalen.length) }),
    " signalen"));
  for (const [id, lijst] of perRegel) {
    const regel = REGELS[id] || { titel: id, doel: "" };
    samenvatting.append(el("span", { class: "teller" }, el("b", { text: String(lijst.length) }),
      " " + regel.titel.toLowerCase()));
    const items = lijst
      .sort((a, b) => (a.sinds < b.sinds ? 1 : a.sinds > b.sinds ? -1 : 0))
      .map((s) => el("li", {}, signaalKnop(s)));
    const sectie = el("section", { class: "regel", "data-regel": id },
      el("h2", { text: regel.titel + " (" + lijst.length + ")" }),
      el("p", { class: "doel", text: regel.doel + "  Regel: " + id }),
      items.length ? el("ul", {}, ...items) : el("p", { class: "doel", text: "Geen signalen." }));
    regels.append(sectie);
  }
  $("signalen").hidden = false;
  $("tijdlijn").hidden = true;
}

function signaalKnop(s) {
  const termijn = s.termijn ? "termijn " + s.termijn : "direct";
  const knop = el("button", { type: "button", class: "signaal", "data-subject": s.subject,
    "data-regel": s.regel, "data-sleutel": s.sleutel },
  el("span", { class: "datum", text: "sinds " + s.sinds }),
  el("span", { class: "status " + s.status, text: s.status }),
  el("span", { class: "pseudoniem", text: kort(s.subject), title: s.subject }),
  el("span", { class: "uitleg", text: s.uitleg + " (" + termijn +
    (s.opgelost_op ? ", opgelost op " + s.opgelost_op : "") + ")" }));
  knop.addEventListener("click", () => openTijdlijn(s.subject, s.regel, s.sleutel));
  return knop;
}

async function openTijdlijn(pseudoniem, regel, sleutel) {
  wisFout();
  $("bezig").hidden = false;
  try {
    const data = await api("/api/v1/burgers/" + encodeURIComponent(pseudoniem) + "/tijdlijn");
    toonTijdlijn(data, regel, sleutel);
  } catch (fout) {
    toonFout(fout);
  } finally {
    $("bezig").hidden = true;
  }
}

function gegevens(data) {
  return Object.entries(data || {})
    .map(([k, v]) => k + ": " + v)
    .join(" · ");
}

function toonTijdlijn(data, regel, sleutel) {
  $("signalen").hidden = true;
  $("tijdlijn").hidden = false;
  $("burger").textContent = data.subject;
  $("klok").textContent = data.klok || "—";

  const rijen = new Map();
  const tbody = $("gebeurtenissen").querySelector("tbody");
  tbody.replaceChildren();
  for (const e of data.tijdlijn) {
    const domein = e.domein || e.type.split(".")[1];
    const rij = el("tr", { "data-id": e.id },
      el("td", { class: "datum", text: e.datum }),
      el("td", {}, el("span", { class: "domein " + domein, text: DOMEINEN[domein] || domein })),
      el("td", { text: TYPEN[e.type] || e.type, title: e.type }),
      el("td", { class: "gegevens", text: gegevens(e.data) }),
      el("td", {}));
    rijen.set(e.id, rij);
    tbody.append(rij);
  }

  const lijst = $("burgersignalen");
  lijst.replaceChildren();
  const signalen = data.alle_signalen || data.signalen || [];
  let gekozen = null;
  const kies = (s, knop) => {
    for (const b of lijst.querySelectorAll("button")) b.setAttribute("aria-pressed", "false");
    knop.setAttribute("aria-pressed", "true");
    for (const rij of rijen.values()) {
      rij.classList.remove("bewijs");
      rij.lastChild.replaceChildren();
    }
    for (const id of s.bewijs) {
      const rij = rijen.get(id);
      if (rij) {
        rij.classList.add("bewijs");
        rij.lastChild.append(el("span", { class: "merk", text: "bewijs" }));
      }
    }
  };
  for (const s of signalen) {
    const titel = (REGELS[s.regel] || { titel: s.regel }).titel;
    const knop = el("button", { type: "button", "aria-pressed": "false", "data-regel": s.regel,
      "data-sleutel": s.sleutel },
    el("span", { class: "status " + s.status, text: s.status + " " }),
    el("b", { text: titel }), " — " + s.uitleg);
    knop.addEventListener("click", () => kies(s, knop));
    lijst.append(el("li", {}, knop));
    if (gekozen === null || (s.regel === regel && s.sleutel === sleutel)) gekozen = [s, knop];
  }
  if (signalen.length === 0) lijst.append(el("li", { text: "Geen signalen." }));
  if (gekozen) kies(gekozen[0], gekozen[1]);
  toonToestand(data);
  window.scrollTo(0, 0);
}

function toonToestand(data) {
  const vak = $("toestand");
  vak.replaceChildren();
  const perioden = data.toestand || [];
  if (perioden.length === 0) {
    vak.append(el("p", { text: "Geen afgeleide toestand." }));
    return;
  }
  const dag = (d) => new Date(d + "T00:00:00Z").getTime();
  const eind = dag(data.klok || perioden[perioden.length - 1].van);
  const begin = Math.min(...perioden.map((p) => dag(p.van)), ...data.tijdlijn.map((e) => dag(e.datum)));
  const breedte = Math.max(1, eind - begin);
  for (const p of perioden) {
    const van = dag(p.van);
    const tot = p.tot ? Math.min(dag(p.tot), eind) : eind;
    const links = ((van - begin) / breedte) * 100;
    const lengte = Math.max(0.4, ((tot - van) / breedte) * 100);
    const balk = el("div", { class: "balk" });
    const stuk = el("span", { class: p.naam });
    stuk.style.left = links + "%";
    stuk.style.width = lengte + "%";
    balk.append(stuk);
    vak.append(el("div", { class: "periode", "data-naam": p.naam },
      el("span", { text: p.naam + (p.sleutel ? " (" + p.sleutel + ")" : "") }),
      balk,
      el("span", { class: "datum", text: p.van + " – " + (p.tot || "heden") })));
  }
}

// The token and purpose from the form; false (and a message, no request) when either is empty.
function leesAanmelding() {
  staat.token = $("token").value.trim();
  staat.doel = $("doel").value.trim();
  const leeg = !staat.token ? "token" : !staat.doel ? "doel" : null;
  if (leeg) {
    const veld = $(leeg);
    veld.setAttribute("aria-invalid", "true");
    veld.focus();
    const vak = $("fout");
    vak.textContent = leeg === "doel"
      ? "Vul het doel van de inzage in: zonder doel worden geen gegevens opgehaald."
      : "Vul uw API-token in.";
    vak.dataset.status = leeg;
    vak.hidden = false;
    return false;
  }
  $("token").removeAttribute("aria-invalid");
  $("doel").removeAttribute("aria-invalid");
  return true;
}

async function aanmelden(gebeurtenis) {
  gebeurtenis.preventDefault();
  wisFout();
  if (!leesAanmelding()) return;
  $("bezig").hidden = false;
  try {
    const filters = { status: $("status").value, regel: $("regel").value,
      van: $("van").value, tot: $("tot").value };
    staat.signalen = await haalSignalen(filters);
    // the chart counts every signal not withdrawn (open and opgelost), whatever the filters
    const voorGrafiek = filters.status || filters.regel || filters.van || filters.tot
      ? await haalSignalen({}) : staat.signalen;
    toonSignalen(staat.signalen);
    toonGrafiek(voorGrafiek);
  } catch (fout) {
    $("signalen").hidden = true;
    $("tijdlijn").hidden = true;
    toonFout(fout);
  } finally {
    $("bezig").hidden = true;
  }
}

async function zoeken(gebeurtenis) {
  gebeurtenis.preventDefault();
  wisFout();
  const pseudoniem = $("pseudoniem").value.trim().toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(pseudoniem)) {
    toonFout(new ApiFout("pseudoniem",
      "Een pseudoniem is 32 tekens: cijfers 0-9 en letters a-f."));
    return;
  }
  if (!leesAanmelding()) return;
  await openTijdlijn(pseudoniem, null, null);
}

const SVG = "http://www.w3.org/2000/svg";
const KLEUREN = ["#1f5aa6", "#b5482f", "#2e7d4f", "#8a4fb5", "#c28a00", "#1b8a99", "#666"];

function svg(tag, attributen, ...kinderen) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributen || {})) node.setAttribute(k, String(v));
  for (const kind of kinderen) node.append(kind);
  return node;
}

// Per rule, the number of open signals on each day a count changes: open on day D means
// sinds <= D and (opgelost_op is null or opgelost_op > D); withdrawn signals do not count.
function openPerRegel(signalen) {
  const perRegel = new Map();
  for (const s of signalen) {
    if (s.status === "ingetrokken") continue;
    if (!perRegel.has(s.regel)) perRegel.set(s.regel, []);
    perRegel.get(s.regel).push(s);
  }
  const reeksen = new Map();
  for (const [regel, lijst] of [...perRegel].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const dagen = new Set();
    for (const s of lijst) {
      dagen.add(s.sinds);
      if (s.opgelost_op) dagen.add(s.opgelost_op);
    }
    const punten = [...dagen].sort().map((dag) => [dag, lijst.filter(
      (s) => s.sinds <= dag && (!s.opgelost_op || s.opgelost_op > dag)).length]);
    reeksen.set(regel, punten);
  }
  return reeksen;
}

function toonGrafiek(signalen) {
  const vak = $("grafiekvak");
  const legenda = $("legenda");
  vak.replaceChildren();
  legenda.replaceChildren();
  const reeksen = openPerRegel(signalen);
  const dagen = [...reeksen.values()].flat().map(([dag]) => dag).sort();
  if (dagen.length === 0) {
    vak.append(el("p", { text: "Geen signalen om te tonen." }));
    return;
  }
  const ms = (d) => new Date(d + "T00:00:00Z").getTime();
  const [eerste, laatste] = [ms(dagen[0]), ms(dagen[dagen.length - 1])];
  const hoogste = Math.max(1, ...[...reeksen.values()].flat().map(([, n]) => n));
  const [B, H, L, R, T, O] = [900, 220, 40, 10, 10, 24];
  const x = (dag) => L + ((ms(dag) - eerste) / Math.max(1, laatste - eerste)) * (B - L - R);
  const y = (n) => T + (1 - n / hoogste) * (H - T - O);
  const beeld = svg("svg", { viewBox: `0 0 ${B} ${H}`, role: "img",
    "aria-label": "Open signalen per regel door de tijd" });
  beeld.append(svg("line", { x1: L, y1: y(0), x2: B - R, y2: y(0), stroke: "#999" }));
  beeld.append(svg("line", { x1: L, y1: T, x2: L, y2: y(0), stroke: "#999" }));
  beeld.append(svg("text", { x: L - 6, y: y(hoogste) + 4, "text-anchor": "end" }, String(hoogste)));
  beeld.append(svg("text", { x: L - 6, y: y(0) + 4, "text-anchor": "end" }, "0"));
  beeld.append(svg("text", { x: L, y: H - 6 }, dagen[0]));
  beeld.append(svg("text", { x: B - R, y: H - 6, "text-anchor": "end" }, dagen[dagen.length - 1]));
  let i = 0;
  for (const [regel, punten] of reeksen) {
    const kleur = KLEUREN[i++ % KLEUREN.length];
    const stappen = [];
    let vorige = 0;
    for (const [dag, n] of punten) {
      stappen.push(`${x(dag).toFixed(1)},${y(vorige).toFixed(1)}`);
      stappen.push(`${x(dag).toFixed(1)},${y(n).toFixed(1)}`);
      vorige = n;
    }
    stappen.push(`${(B - R).toFixed(1)},${y(vorige).toFixed(1)}`);
    const lijn = svg("polyline", { points: stappen.join(" "), fill: "none", stroke: kleur,
      "stroke-width": 2, "data-regel": regel,
      "data-reeks": punten.map(([dag, n]) => dag + "=" + n).join(";") },
    svg("title", {}, (REGELS[regel] || { titel: regel }).titel));
    beeld.append(lijn);
    legenda.append(el("li", { "data-regel": regel },
      svg("svg", { viewBox: "0 0 14 10" }, svg("rect", { width: 14, height: 10, fill: kleur })),
      (REGELS[regel] || { titel: regel }).titel + ": nu " + vorige + " open"));
  }
  vak.append(beeld);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const [id, regel] of Object.entries(REGELS)) {
    $("regel").append(el("option", { value: id, text: regel.titel }));
  }
  $("aanmelden").addEventListener("submit", aanmelden);
  $("zoeken").addEventListener("submit", zoeken);
  $("terug").addEventListener("click", () => {
    wisFout();
    toonSignalen(staat.signalen);
  });
});
