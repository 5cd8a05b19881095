// The wallboard: asks for a supervisor's token once, keeps it in this tab's sessionStorage, and
// reads the live figures from GET /v1/stats/live/stream (Server-Sent Events, `event: live`, data
// = the JSON of GET /v1/stats/live) with fetch, because EventSource cannot send an Authorization
// header and the token must never be put in a URL. On 401/403 the token is dropped and asked
// for again; when the stream ends or fails it reconnects by itself, 1 s then up to 5 s apart.
"use strict";

const STREAM_URL = "/v1/stats/live/stream";
const TOKEN_KEY = "hotline.wallboard.token";
const BACKOFF_MS = [1000, 2000, 3000, 5000];
// The server sends a comment while idle; nothing at all for this long means a dead link.
const SILENCE_MS = 45000;
// Amber: the goal is missed by at most this much (5 percentage points; 5 s for times).
const AMBER_RATIO = 0.05;
const AMBER_SECONDS = 5;

const STATES = [
  ["ready", "готов"],
  ["busy", "занят"],
  ["wrap_up", "поствызывная обработка"],
  ["break", "перерыв"],
  ["offline", "не в сети"],
];
const PRIORITIES = { urgent: "срочный", normal: "обычный" };

const $ = (id) => document.getElementById(id);
const percent = new Intl.NumberFormat("ru-RU", { style: "percent", maximumFractionDigits: 1 });
const number = new Intl.NumberFormat("ru-RU", { maximumFractionDigits: 1 });

let session = null; // the AbortController of the connection loop running now

// -- formatting ---------------------------------------------------------------------------------

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

function formatRatio(value) {
  return isNumber(value) ? percent.format(value) : "—";
}

// "6,5 с", "12 с"; a minute or more as minutes:seconds, "1:15" (short enough for half a tile).
function formatSeconds(value) {
  if (!isNumber(value)) return "—";
  const whole = Math.round(value);
  if (whole < 60) return `${value < 10 ? number.format(value) : whole} с`;
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function formatCount(value) {
  return isNumber(value) ? String(value) : "—";
}

// green: the goal is met; amber: missed by at most `band`; red: worse; none: no figure or goal.
function level(value, goal, { lowerIsBetter, band }) {
  if (!isNumber(value) || !isNumber(goal)) return "none";
  const shortfall = lowerIsBetter ? value - goal : goal - value;
  if (shortfall <= 1e-9) return "green";
  return shortfall <= band + 1e-9 ? "amber" : "red";
}

const HIGHER_RATIO = { lowerIsBetter: false, band: AMBER_RATIO };
const LOWER_RATIO = { lowerIsBetter: true, band: AMBER_RATIO };
const LOWER_SECONDS = { lowerIsBetter: true, band: AMBER_SECONDS };

// -- rendering ----------------------------------------------------------------------------------

function setCell(id, text, lvl) {
  const element = $(id);
  element.textContent = text;
  const cell = element.closest("[data-level]");
  if (cell) cell.dataset.level = lvl;
}

function serviceLevelTile(threshold) {
  const id = `tile-sl-${threshold}`;
  let tile = $(id);
  if (tile) return tile;
  tile = document.createElement("article");
  tile.className = "tile tile-pair";
  tile.id = id;
  const title = document.createElement("h2");
  title.textContent = `Ответ за ${threshold} с`;
  const pair = document.createElement("div");
  pair.className = "pair";
  for (const [when, suffix] of [["сегодня", "today"], ["15 мин", "15m"]]) {
    const cell = document.createElement("p");
    cell.className = "cell";
    cell.dataset.level = "none";
    const label = document.createElement("span");
    label.className = "when";
    label.textContent = when;
    const value = document.createElement("span");
    value.className = "value";
    value.id = `sl-${threshold}-${suffix}`;
    value.textContent = "—";
    cell.append(label, " ", value);
    pair.append(cell);
  }
  const goal = document.createElement("p");
  goal.className = "goal";
  goal.id = `sl-${threshold}-goal`;
  tile.append(title, pair, goal);
  // After the last service-level tile, or after the longest wait.
  const before = [...document.querySelectorAll("[id^=tile-sl-]")].pop() || $("tile-oldest");
  before.after(tile);
  return tile;
}

function renderServiceLevels(data, goals) {
  const thresholds = Object.keys(goals)
    .filter((key) => /^sl_\d+$/.test(key))
    .map((key) => key.slice(3))
    .sort((a, b) => Number(a) - Number(b));
  for (const threshold of thresholds) {
    serviceLevelTile(threshold);
    const goal = goals[`sl_${threshold}`];
    for (const [period, suffix] of [["today", "today"], ["last_15m", "15m"]]) {
      const value = data[period]?.service_level?.[threshold];
      setCell(`sl-${threshold}-${suffix}`, formatRatio(value), level(value, goal, HIGHER_RATIO));
    }
    $(`sl-${threshold}-goal`).textContent = `цель: не меньше ${formatRatio(goal)}`;
  }
}

function renderPair(prefix, data, field, goal, format, rule, goalText) {
  setCell(`${prefix}-today`, format(data.today?.[field]), level(data.today?.[field], goal, rule));
  setCell(`${prefix}-15m`, format(data.last_15m?.[field]), level(data.last_15m?.[field], goal, rule));
  $(`${prefix}-goal`).textContent = isNumber(goal) ? goalText : "";
}

// Today's quality figures (surveys, repeat contacts): no goals, so no colours.
function formatPoints(value) {
  return isNumber(value) ? (value > 0 ? "+" : "") + number.format(value) : "—";
}

function renderQuality(today) {
  $("quality-csat").textContent = formatRatio(today?.csat);
  $("quality-nps").textContent = formatPoints(today?.nps);
  $("quality-response").textContent = formatRatio(today?.survey_response_rate);
  $("quality-repeat").textContent = formatRatio(today?.repeat_rate);
  $("quality-fcr").textContent = formatRatio(today?.first_contact_resolution);
}

function renderAgents(operators) {
  const list = $("agents");
  list.replaceChildren(
    ...STATES.map(([state, label]) => {
      const item = document.createElement("li");
      item.dataset.state = state;
      const name = document.createElement("span");
      name.className = "label";
      name.textContent = label;
      const count = document.createElement("span");
      count.className = "count";
      count.id = `agents-${state}`;
      count.textContent = formatCount(operators?.[state] ?? 0);
      item.append(name, count);
      return item;
    }),
  );
}

function renderQueues(queues, maxWaitGoal) {
  const rows = (Array.isArray(queues) ? queues : []).map((queue) => {
    const row = document.createElement("tr");
    row.dataset.topic = queue.topic;
    row.dataset.priority = queue.priority;
    const longest = queue.longest_wait_s ?? queue.oldest_wait_s;
    const cells = [
      [queue.label || queue.topic, "topic"],
      [PRIORITIES[queue.priority] || queue.priority, ""],
      [formatCount(queue.waiting), "num"],
      [queue.waiting > 0 ? formatSeconds(longest) : "—", "num"],
      [`${formatCount(queue.free_operators)} / ${formatCount(queue.eligible_operators)}`, "num"],
    ];
    for (const [text, cls] of cells) {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (cls) cell.className = cls;
      row.append(cell);
    }
    row.cells[3].dataset.level = queue.waiting > 0
      ? level(longest, maxWaitGoal, LOWER_SECONDS) : "none";
    if (queue.waiting > 0 && queue.free_operators === 0) row.dataset.understaffed = "";
    return row;
  });
  $("queues").replaceChildren(...rows);
  $("queues-empty").hidden = rows.length > 0;
}

// One `live` event onto the page (a global: the browser test draws its own figures with it).
function render(data) {
  const goals = data.goals || {};
  $("clock").textContent = data.now
    ? new Date(data.now).toLocaleTimeString("ru-RU") : "—";
  $("waiting").textContent = formatCount(data.waiting);
  setCell("oldest-wait", formatSeconds(data.oldest_wait_s),
    data.waiting > 0 ? level(data.oldest_wait_s, goals.max_wait_s, LOWER_SECONDS) : "none");
  $("oldest-goal").textContent = isNumber(goals.max_wait_s)
    ? `цель: не больше ${formatSeconds(goals.max_wait_s)}` : "";
  $("max-wait-today").textContent = formatSeconds(data.today?.max_wait_s);
  renderServiceLevels(data, goals);
  renderPair("asa", data, "asa_s", goals.asa_s, formatSeconds, LOWER_SECONDS,
    `цель: не больше ${formatSeconds(goals.asa_s)}`);
  renderPair("abandon", data, "abandon_rate", goals.abandon_rate, formatRatio, LOWER_RATIO,
    `цель: не больше ${formatRatio(goals.abandon_rate)}`);
  renderQuality(data.today);
  renderAgents(data.operators);
  const overdue = data.voicemail_overdue;
  setCell("voicemail-overdue", formatCount(overdue),
    isNumber(overdue) ? (overdue > 0 ? "red" : "green") : "none");
  renderQueues(data.queues, goals.max_wait_s);
}

// -- the link -----------------------------------------------------------------------------------

function showLink(state, text) {
  const link = $("link");
  link.dataset.state = state;
  link.textContent = text;
  document.body.classList.toggle("stale", state === "down");
}

function askForToken(message) {
  if (session) session.abort();
  session = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("board").hidden = true;
  $("forget").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  showLink("idle", "ожидание токена");
  $("token").focus();
}

// Server-Sent Events from a byte stream: calls onEvent(name, data) for each complete event.
async function readEvents(body, onEvent, onBytes) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let name = "";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onBytes();
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") {
        if (data.length) onEvent(name || "message", data.join("\n"));
        name = "";
        data = [];
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "event") name = text;
        else if (field === "data") data.push(text);
      }
    }
  }
}

class Refused extends Error {}

async function follow(token, signal, onLive) {
  const silence = new AbortController(); // aborted by the caller's signal too
  let timer = null;
  const heard = () => {
    clearTimeout(timer);
    timer = setTimeout(() => silence.abort(), SILENCE_MS);
  };
  heard();
  const stop = () => silence.abort();
  signal.addEventListener("abort", stop);
  try {
    const response = await fetch(STREAM_URL, {
      headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
      cache: "no-store",
      credentials: "omit",
      signal: silence.signal,
    });
    if (response.status === 401) throw new Refused("Токен не принят: введите действующий токен.");
    if (response.status === 403) {
      throw new Refused("Этому токену табло недоступно: нужен супервизор или администратор.");
    }
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    await readEvents(response.body, (name, text) => {
      if (name === "live") onLive(JSON.parse(text));
    }, heard);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", stop);
  }
}

async function connect(token) {
  const controller = new AbortController();
  session = controller;
  let attempt = 0;
  showLink("idle", "подключение…");
  while (!controller.signal.aborted) {
    try {
      await follow(token, controller.signal, (data) => {
        attempt = 0;
        render(data);
        showLink("live", "на связи");
      });
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof Refused) {
        askForToken(error.message);
        return;
      }
    }
    if (controller.signal.aborted) return;
    showLink("down", "нет связи");
    const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    attempt += 1;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function showBoard(token) {
  $("login").hidden = true;
  $("board").hidden = false;
  $("forget").hidden = false;
  connect(token);
}

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    $("token").value = "";
    if (!token) return;
    if (!/^[\x21-\x7e]+$/.test(token)) { // a header carries no other characters
      $("login-error").textContent = "В токене только латинские буквы, цифры и знаки.";
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    showBoard(token);
  });
  $("forget").addEventListener("click", () => askForToken(""));
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) showBoard(token);
  else askForToken("");
});
