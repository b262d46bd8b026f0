/* ragkit report: charts, sortable tables and the lazy per-query drill-down.
 * Safety rule: data never becomes markup. Every element is made with createElement and every
 * string from the data goes in through textContent (never innerHTML / insertAdjacentHTML). */
(function () {
  "use strict";
  var PAGE = JSON.parse(document.getElementById("ragkit-page").textContent);
  var PLOT_CONFIG = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"]};

  /* el("td", {class: "num"}, "text", childNode, ...): an element with attributes and text/children. */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) continue;
      node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  function fmt(v, digits) { return v === null || v === undefined ? "—" : Number(v).toFixed(digits === undefined ? 3 : digits); }

  /* ---- charts ---- */
  function plot(div, id) {
    var fig = PAGE.figures[id];
    if (!fig || typeof Plotly === "undefined") return;
    fig = JSON.parse(JSON.stringify(fig));  // plotly annotates what it is given; keep the originals pristine
    Plotly.react(div, fig.data, fig.layout, PLOT_CONFIG);
  }
  document.querySelectorAll("[data-figure]").forEach(function (div) { plot(div, div.getAttribute("data-figure")); });
  document.querySelectorAll("select[data-figure-target]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      var div = document.getElementById(sel.getAttribute("data-figure-target"));
      div.setAttribute("data-figure", sel.value);
      plot(div, sel.value);
    });
  });

  /* ---- sortable tables: click a header; numbers sort on data-value ---- */
  function sortKey(row, col, numeric) {
    var cell = row.cells[col];
    if (!cell) return numeric ? -Infinity : "";
    if (numeric) {
      var v = cell.getAttribute("data-value");
      return v === null || v === "" || isNaN(Number(v)) ? -Infinity : Number(v);
    }
    return cell.textContent.trim().toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.setAttribute("tabindex", "0");
      var sort = function () {
        var numeric = th.getAttribute("data-type") === "num";
        var current = th.getAttribute("aria-sort");
        var dir = current === "descending" ? "ascending" : current === "ascending" ? "descending" : (numeric ? "descending" : "ascending");
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var sign = dir === "ascending" ? 1 : -1;
        rows.sort(function (a, b) {
          var x = sortKey(a, col, numeric), y = sortKey(b, col, numeric);
          return x < y ? -sign : x > y ? sign : 0;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  });

  /* ---- per-query drill-down ---- */
  var DD = PAGE.drilldown;
  if (!DD) return;
  var list = document.getElementById("dd-list");
  var controls = {
    config: document.getElementById("dd-config"), filter: document.getElementById("dd-filter"),
    sort: document.getElementById("dd-sort"), search: document.getElementById("dd-search"),
    count: document.getElementById("dd-count")
  };
  var PAGE_SIZE = 100;
  var nQueries = DD.queries.id.length;
  var primaryLabel = DD.metrics.length ? DD.metrics[0].label : "";

  function config() { return DD.configs[Number(controls.config.value)]; }
  function value(cfg, metric, i) {
    var v = DD.values[cfg] && DD.values[cfg][metric];
    return v ? v[i] : null;
  }
  function failureMetric() { return controls.filter.value === "" ? null : DD.failures[Number(controls.filter.value)]; }

  function visibleQueries() {
    var cfg = config(), fail = failureMetric();
    var needle = controls.search.value.trim().toLowerCase();
    var out = [];
    for (var i = 0; i < nQueries; i++) {
      if (fail && value(cfg, fail, i) !== 0) continue;
      if (needle && DD.queries.text[i].toLowerCase().indexOf(needle) < 0 && DD.queries.id[i].toLowerCase().indexOf(needle) < 0) continue;
      out.push(i);
    }
    if (controls.sort.value === "worst" && DD.metrics.length) {
      var key = DD.metrics[0].key;
      out.sort(function (a, b) {
        var x = value(cfg, key, a), y = value(cfg, key, b);
        return (x === null ? Infinity : x) - (y === null ? Infinity : y) || a - b;
      });
    }
    return out;
  }

  function hitBadge(cfg, i) {  // hit/miss on the failure filter's metric, else on the default one
    var metric = failureMetric() || DD.badge;
    var hit = metric ? value(cfg, metric, i) : null;
    if (hit === null) return el("span", {"class": "badge na"}, "—");
    return el("span", {"class": "badge " + (hit > 0 ? "hit" : "miss"), title: metric + " = " + hit}, hit > 0 ? "hit" : "miss");
  }

  function renderList() {
    var cfg = config(), shown = visibleQueries();
    while (list.firstChild) list.removeChild(list.firstChild);
    controls.count.textContent = shown.length + " of " + nQueries + " questions";
    appendRows(shown, 0, cfg);
  }

  function appendRows(shown, start, cfg) {
    var end = Math.min(shown.length, start + PAGE_SIZE);
    for (var n = start; n < end; n++) list.appendChild(queryRow(shown[n], cfg));
    if (end < shown.length) {
      var more = el("button", {type: "button", "class": "dd-more"}, "show " + Math.min(PAGE_SIZE, shown.length - end) + " more (" + (shown.length - end) + " left)");
      more.addEventListener("click", function () { list.removeChild(more); appendRows(shown, end, cfg); });
      list.appendChild(more);
    }
  }

  function queryRow(i, cfg) {
    var details = el("details", {"class": "dd-q", "data-query": DD.queries.id[i]});
    var primary = DD.metrics.length ? value(cfg, DD.metrics[0].key, i) : null;
    details.appendChild(el("summary", {}, hitBadge(cfg, i), el("span", {"class": "qid"}, DD.queries.id[i]),
      el("span", {"class": "qtext"}, DD.queries.text[i] || "(text not stored in this run)"),
      el("span", {"class": "qval"}, primaryLabel ? primaryLabel + " " + fmt(primary) : "")));
    details.addEventListener("toggle", function () {  // lazy: build the body on first open only
      if (details.open && !details.querySelector(".dd-body")) details.appendChild(queryBody(i, cfg));
    });
    return details;
  }

  /* Relevance of chunk c for query i: {grade, spans: [[from, to)] in chunk-local offsets, whole: bool}. */
  function relevance(c, i) {
    var qrels = DD.qrels ? DD.qrels[i] : [], ch = DD.chunks;
    var out = {grade: 0, spans: [], whole: false};
    qrels.forEach(function (j) {
      var doc = j[0], grade = j[1], s = j[2], e = j[3];
      if (grade <= 0 || doc !== ch.doc[c]) return;
      if (s === null || ch.start[c] === null) { out.grade = Math.max(out.grade, grade); out.whole = true; return; }
      var from = Math.max(s, ch.start[c]), to = Math.min(e, ch.end[c]);
      if (from < to) { out.grade = Math.max(out.grade, grade); out.spans.push([from - ch.start[c], to - ch.start[c]]); }
    });
    return out;
  }

  /* The chunk text with the relevant spans wrapped in <mark> (text nodes only). */
  function highlighted(c, spans) {
    var text = DD.chunks.text[c];
    var box = el("div", {"class": "text"});
    if (text === null || text === undefined) { box.appendChild(el("span", {"class": "cut"}, "(chunk text not stored in this run)")); return box; }
    spans = spans.map(function (s) { return [Math.min(s[0], text.length), Math.min(s[1], text.length)]; })
      .filter(function (s) { return s[0] < s[1]; }).sort(function (a, b) { return a[0] - b[0]; });
    var pos = 0;
    spans.forEach(function (s) {
      var from = Math.max(s[0], pos);
      if (from >= s[1]) return;
      if (from > pos) box.appendChild(document.createTextNode(text.slice(pos, from)));
      box.appendChild(el("mark", {}, text.slice(from, s[1])));
      pos = s[1];
    });
    if (pos < text.length) box.appendChild(document.createTextNode(text.slice(pos)));
    if (DD.chunks.cut[c]) box.appendChild(el("span", {"class": "cut"}, " … (cut: " + DD.chunks.cut[c] + " characters in all, " + DD.text_limit + " shown)"));
    return box;
  }

  function queryBody(i, cfg) {
    var body = el("div", {"class": "dd-body"});
    body.appendChild(el("p", {}, el("strong", {}, "Question: "), DD.queries.text[i] || "", DD.queries.source[i] ? " (" + DD.queries.source[i] + ")" : ""));
    var meta = DD.queries.metadata[i] || {};
    if (Object.keys(meta).length) {
      var metaRow = el("div", {"class": "labels"}, el("strong", {}, "Metadata: "));
      Object.keys(meta).forEach(function (k) { metaRow.appendChild(el("span", {"class": "chip"}, k + ": " + meta[k])); });
      body.appendChild(metaRow);
    }
    var qrels = DD.qrels ? DD.qrels[i] : null;
    var labels = el("div", {"class": "labels"}, el("strong", {}, "Relevant: "));
    if (!qrels || !qrels.length) labels.appendChild(document.createTextNode(qrels ? "no relevance label" : "labels not stored in this run"));
    (qrels || []).forEach(function (j, n) {
      labels.appendChild(el("span", {"class": "chip"}, j[0] + (j[2] === null ? " (whole document)" : " [" + j[2] + ", " + j[3] + ")") + " grade " + j[1]));
    });
    body.appendChild(labels);
    var vals = el("div", {"class": "values"}, el("strong", {}, cfg + ": "));
    DD.metrics.forEach(function (m) { vals.appendChild(el("span", {"class": "chip", title: m.key}, m.label + " " + fmt(value(cfg, m.key, i)))); });
    body.appendChild(vals);
    body.appendChild(hitsTable(i, cfg));
    body.appendChild(acrossConfigs(i));
    return body;
  }

  function hitsTable(i, cfg) {
    var ranked = (DD.rankings[cfg] || [])[i] || [], scores = (DD.scores[cfg] || [])[i] || [];
    var stage = DD.stages[cfg] === "rerank" ? "rerank score" : "score";
    var table = el("table", {"class": "hits"}, el("thead", {}, el("tr", {}, el("th", {"class": "num"}, "rank"),
      el("th", {"class": "num"}, stage), el("th", {}, "document [start, end)"), el("th", {}, "relevant"), el("th", {}, "chunk text"))));
    var tbody = el("tbody", {});
    if (!ranked.length) tbody.appendChild(el("tr", {}, el("td", {colspan: "5"}, "nothing retrieved")));
    ranked.forEach(function (c, r) {
      var rel = relevance(c, i), ch = DD.chunks;
      var where = ch.doc[c] + (ch.start[c] === null ? " (" + ch.id[c] + ")" : " [" + ch.start[c] + ", " + ch.end[c] + ")");
      var relText = rel.grade > 0 ? "✓ grade " + rel.grade + (rel.whole ? " (document)" : "") : "";
      tbody.appendChild(el("tr", rel.grade > 0 ? {"class": "rel"} : {}, el("td", {"class": "num"}, r + 1),
        el("td", {"class": "num"}, fmt(scores[r], 4)), el("td", {"class": "mono"}, where), el("td", {}, relText),
        el("td", {}, highlighted(c, rel.spans))));
    });
    table.appendChild(tbody);
    return table;
  }

  function acrossConfigs(i) {
    var wrap = el("details", {}, el("summary", {}, "this question in every configuration"));
    var head = el("tr", {}, el("th", {}, "configuration"));
    DD.metrics.forEach(function (m) { head.appendChild(el("th", {"class": "num"}, m.label)); });
    var tbody = el("tbody", {});
    DD.configs.forEach(function (cfg) {
      var row = el("tr", {}, el("td", {}, cfg));
      DD.metrics.forEach(function (m) { row.appendChild(el("td", {"class": "num"}, fmt(value(cfg, m.key, i)))); });
      tbody.appendChild(row);
    });
    wrap.appendChild(el("table", {"class": "plain"}, el("thead", {}, head), tbody));
    return wrap;
  }

  ["config", "filter", "sort"].forEach(function (k) { controls[k].addEventListener("change", renderList); });
  controls.search.addEventListener("input", renderList);
  renderList();
})();
