// hotline console: live updates (server-sent events), local times, keys.
// Plain script, no build step; the pages work without it, only less live.
"use strict";

(function () {
  // Times: the server writes UTC; show the reader's local time, keep UTC in the tooltip.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      if (t.dataset.local) return;
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) return;
      t.title = t.textContent + " (UTC)";
      t.textContent = d.toLocaleString(undefined, {
        year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
      });
      t.dataset.local = "1";
    });
  }

  // Re-reads the page and swaps the live regions, leaving forms alone so
  // nothing typed is lost.
  var refreshing = false, again = false;
  function refresh() {
    if (refreshing) { again = true; return; }
    var live = document.querySelectorAll("[data-live][id]");
    if (!live.length) return;
    refreshing = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        live.forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh) { el.replaceWith(document.importNode(fresh, true)); }
        });
        localTimes(document);
        document.dispatchEvent(new CustomEvent("hotline:refreshed"));
      })
      .catch(function () {})
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  function notice(text, url) {
    var box = document.getElementById("notices");
    if (!box) return;
    var n = document.createElement("div");
    n.className = "notice";
    n.setAttribute("role", "status");
    var a = document.createElement("a");
    a.href = url;
    a.textContent = text;
    var x = document.createElement("button");
    x.type = "button";
    x.className = "link";
    x.textContent = "Dismiss";
    x.addEventListener("click", function () { n.remove(); });
    n.appendChild(a);
    n.appendChild(document.createTextNode(" "));
    n.appendChild(x);
    box.prepend(n);
    while (box.children.length > 5) box.lastChild.remove();
  }

  function overdue(data) {
    var banner = document.getElementById("overdue");
    var list = document.getElementById("overdue-list");
    if (!banner || !list) return;
    list.textContent = "";
    data.items.forEach(function (it) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = it.url;
      a.textContent = it.what;
      li.appendChild(a);
      list.appendChild(li);
    });
    banner.hidden = data.count === 0;
    document.title = (data.count ? "(" + data.count + " overdue) " : "") +
      document.title.replace(/^\(\d+ overdue\) /, "");
  }

  function connect() {
    var state = document.getElementById("live-state");
    if (!state || !window.EventSource) return;
    var es = new EventSource("/events");
    es.addEventListener("hello", function () {
      state.textContent = "Live updates: on";
      state.className = "live-state on";
      document.body.dataset.live = "on";
    });
    es.addEventListener("entry", function (e) {
      var d = JSON.parse(e.data);
      if (d.notify) notice(d.summary + " (" + d.id + ")", d.url);
      refresh();
    });
    es.addEventListener("signal", function (e) {
      document.dispatchEvent(new CustomEvent("hotline:signal", { detail: JSON.parse(e.data) }));
    });
    es.addEventListener("overdue", function (e) {
      overdue(JSON.parse(e.data));
      refresh();
    });
    es.onerror = function () {
      state.textContent = "Live updates: reconnecting… (reload to be sure you see the latest)";
      state.className = "live-state off";
      document.body.dataset.live = "off";
    };
  }

  // g then a letter: go to a page (not while typing).
  var pending = false;
  var keys = { c: "/", k: "/calls", i: "/inquiries", w: "/compose", a: "/agreements", l: "/health" };
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (pending && keys[e.key]) { location.href = keys[e.key]; pending = false; return; }
    pending = e.key === "g";
  });

  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    document.querySelectorAll("[data-tz-offset]").forEach(function (i) {
      i.value = String(new Date().getTimezoneOffset());
    });
    var errs = document.getElementById("form-errors");
    if (errs) errs.focus();
    connect();
  });
})();
