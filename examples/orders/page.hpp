// The read model as a page: GET / on the service's HTTP endpoint. Plain HTML with a script
// that reads the store routes (/stores/...) every two seconds — no external assets, no build
// step. Figures carry ids (count-<status>, top-<n>-customer / top-<n>-value,
// revenue-<hour start ms>) so a test can find them in the rendered page.
#pragma once

namespace orders {

inline constexpr const char* page_html = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Orders — read model</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
  h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
  table { border-collapse: collapse; min-width: 20rem; }
  td, th { padding: .25rem .75rem; border-bottom: 1px solid #ddd; text-align: left; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  #error { color: #b00; } #updated { color: #777; font-size: .9rem; }
</style>
</head>
<body data-state="loading">
<h1>Orders</h1>
<p id="updated">loading…</p>
<p id="error"></p>
<h2>Orders by status</h2>
<table><thead><tr><th>status</th><th>orders</th></tr></thead><tbody id="by-status"></tbody></table>
<h2>Top customers</h2>
<table><thead><tr><th>customer</th><th>name</th><th>city</th><th>orders</th><th>lifetime value</th></tr></thead>
<tbody id="top-customers"></tbody></table>
<h2>Revenue by hour (UTC)</h2>
<table><thead><tr><th>hour</th><th>revenue</th></tr></thead><tbody id="revenue"></tbody></table>
<script>
"use strict";
async function entries(store) {
  const r = await fetch("/stores/" + store);
  const body = await r.json();
  if (!r.ok) throw new Error(store + ": " + (body.error || r.status));
  return body.entries;
}
function money(cents) { return (cents / 100).toFixed(2); }
function row(cells) {
  const tr = document.createElement("tr");
  for (const [text, id, numeric] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (id) td.id = id;
    if (numeric) td.className = "n";
    tr.appendChild(td);
  }
  return tr;
}
async function refresh() {
  try {
    const [status, customers, revenue, enriched] = await Promise.all([
      entries("order-status"), entries("customer-orders"), entries("revenue-per-hour"),
      entries("orders-enriched")]);
    const counts = new Map();
    for (const e of status) counts.set(e.value.status, (counts.get(e.value.status) || 0) + 1);
    document.getElementById("by-status").replaceChildren(...[...counts.keys()].sort().map(
        s => row([[s], [String(counts.get(s)), "count-" + s, true]])));

    const who = new Map();
    for (const e of enriched) who.set(e.value.customer, e.value);
    const top = customers.slice().sort((a, b) =>
        b.value.lifetime_value - a.value.lifetime_value || (a.key < b.key ? -1 : 1)).slice(0, 5);
    document.getElementById("top-customers").replaceChildren(...top.map((e, i) => {
      const w = who.get(e.key) || {};
      return row([[e.key, "top-" + (i + 1) + "-customer"], [w.name || ""], [w.city || ""],
                  [String(e.value.orders), null, true],
                  [money(e.value.lifetime_value), "top-" + (i + 1) + "-value", true]]);
    }));

    const hours = new Map();
    for (const e of revenue) hours.set(e.start, (hours.get(e.start) || 0) + e.value);
    document.getElementById("revenue").replaceChildren(...[...hours.keys()].sort((a, b) => a - b)
        .map(h => row([[new Date(h).toISOString().slice(0, 16).replace("T", " ")],
                       [money(hours.get(h)), "revenue-" + h, true]])));

    document.getElementById("error").textContent = "";
    document.getElementById("updated").textContent =
        status.length + " orders; updated " + new Date().toISOString();
    document.body.dataset.state = "ready";
  } catch (e) {
    document.getElementById("error").textContent = String(e.message || e);
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)html";

}  // namespace orders
