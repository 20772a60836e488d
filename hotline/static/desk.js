// The call-taker desk: keyboard first. Everything shown comes back from the server as data and
// is written with textContent, so a transcript can never become markup.
(function () {
  "use strict";
  const root = document.getElementById("desk");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const fields = ["hotline", "caller_number", "district", "nature", "urgency", "transcript"];
  let suggestion = null;   // the last suggestion for what is on the screen
  let queuedCall = null;   // a call picked from the queue, or null for a new call
  let busy = false;

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = { message: "服务器返回了无法识别的内容" }; }
    if (!response.ok) throw new Error(data.message || "操作失败（" + response.status + "）");
    return data;
  }

  function callBody() {
    const body = {};
    for (const f of fields) body[f] = $(f).value;
    return body;
  }

  function show(id, text) {
    const el = $(id);
    el.textContent = text || "";
    el.hidden = !text;
  }

  function stale() {
    // Any edit invalidates the suggestion: transfer only what was judged.
    if (queuedCall) return;
    suggestion = null;
    $("transfer-button").disabled = true;
    $("override-button").disabled = true;
  }

  function render(s) {
    suggestion = s;
    $("suggestion").hidden = false;
    $("suggestion-empty").hidden = true;
    $("decision-label").textContent = s.decision_label || s.decision;
    $("destination-label").textContent = s.destination_label || s.destination;
    $("three-party").hidden = !s.three_party_call;
    const p = s.police_probability;
    $("probability").textContent = p === null || p === undefined ? "—" : (p * 100).toFixed(0) + "%";
    $("category").textContent = [s.category_level1, s.category_level2].filter(Boolean).join(" / ") || "—";
    $("rules").textContent = (s.rules || []).join("、") || "—";
    $("explanation").textContent = s.explanation || "";
    const review = s.destination === "review";
    $("transfer-button").disabled = review;
    $("override-button").disabled = false;
    if (review) openOverride();
  }

  async function judge() {
    if (busy || queuedCall) return;
    show("message", ""); show("result", "");
    if (!$("transcript").value.trim()) { show("message", "请先录入来电内容"); $("transcript").focus(); return; }
    busy = true;
    try { render(await post(root.dataset.routeUrl, callBody())); $("transfer-button").focus(); }
    catch (e) { show("message", e.message); }
    finally { busy = false; }
  }

  async function transfer(choice) {
    if (busy || !suggestion) return;
    show("message", "");
    busy = true;
    try {
      const result = queuedCall
        ? await post("/desk/calls/" + queuedCall.id + "/transfer", choice)
        : await post(root.dataset.transferUrl,
                     Object.assign(callBody(), choice, { idempotency_key: root.dataset.idempotencyKey }));
      finish(result);
    } catch (e) { show("message", e.message); }
    finally { busy = false; }
  }

  function finish(result) {
    const text = "已转接：工单 " + result.ticket_number + " → " + result.destination_label +
      "（" + result.state + "）" + (result.overridden ? "，已记录改派理由" : "");
    const el = $("result");
    el.textContent = text + " ";
    const link = document.createElement("a");
    link.href = result.url; link.textContent = "查看工单";
    el.appendChild(link);
    el.hidden = false;
    $("override").hidden = true;
    $("transfer-button").disabled = true;
    $("override-button").disabled = true;
    refreshQueue();
  }

  function openOverride() {
    if (!suggestion) return;
    $("override").hidden = false;
    $("destination").focus();
  }

  function closeOverride() {
    $("override").hidden = true;
    $("transcript").focus();
  }

  function newCall() {
    window.location.reload();  // a fresh page is a fresh idempotency key
  }

  function pick(call) {
    queuedCall = call;
    for (const f of fields) if (call[f] !== undefined && call[f] !== null) $(f).value = call[f];
    $("transcript").readOnly = true;
    $("call-source").textContent = "队列来电 #" + call.id;
    show("result", ""); show("message", "");
    render(call.suggestion);
    lookUpCaller();
  }

  async function refreshQueue() {
    try {
      const response = await fetch(root.dataset.queueUrl, { credentials: "same-origin" });
      if (!response.ok) return;
      const calls = await response.json();
      const list = $("queue");
      list.replaceChildren();
      for (const call of calls) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = call.hotline + " · " + call.received_at.slice(11, 16) + " · " + call.transcript.slice(0, 40);
        button.addEventListener("click", () => pick(call));
        item.appendChild(button);
        list.appendChild(item);
      }
      $("queue-count").textContent = String(calls.length);
    } catch (e) { /* the next poll tries again */ }
  }

  async function lookUpCaller() {
    const number = $("caller_number").value.trim();
    const box = $("caller-history");
    if (!number) return;
    try {
      const response = await fetch(root.dataset.callerUrl + "?number=" + encodeURIComponent(number),
                                   { credentials: "same-origin" });
      const data = await response.json();
      box.replaceChildren();
      const section = (title, items, line) => {
        const h = document.createElement("p");
        h.textContent = title + "（" + items.length + "）";
        box.appendChild(h);
        const ul = document.createElement("ul");
        ul.className = "history";
        for (const item of items) ul.appendChild(line(item));
        box.appendChild(ul);
      };
      section("近期来电", data.recent_calls, (c) => {
        const li = document.createElement("li");
        li.textContent = c.received_at.slice(0, 16).replace("T", " ") + " " + c.transcript;
        return li;
      });
      section("未办结工单", data.open_tickets, (t) => {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = t.url; a.textContent = t.number;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" " + t.state + " " + t.summary));
        return li;
      });
    } catch (e) { /* history is a help, not a step */ }
  }

  $("route-button").addEventListener("click", judge);
  $("transfer-button").addEventListener("click", () => transfer({}));
  $("override-button").addEventListener("click", openOverride);
  $("override").addEventListener("submit", (event) => {
    event.preventDefault();
    transfer({ destination: $("destination").value, reason: $("reason").value });
  });
  for (const f of fields) $(f).addEventListener("input", stale);
  $("caller_number").addEventListener("change", lookUpCaller);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey && event.key === "Enter") { event.preventDefault(); judge(); }
    else if (event.altKey && (event.key === "t" || event.key === "T")) {
      event.preventDefault();
      if (!$("transfer-button").disabled) transfer({});
    }
    else if (event.altKey && (event.key === "o" || event.key === "O")) { event.preventDefault(); openOverride(); }
    else if (event.altKey && (event.key === "n" || event.key === "N")) { event.preventDefault(); newCall(); }
    else if (event.key === "Escape" && !$("override").hidden) { event.preventDefault(); closeOverride(); }
  });

  refreshQueue();
  setInterval(refreshQueue, 5000);
})();
