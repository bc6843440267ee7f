/* Resident pages, made sturdier where JavaScript runs; every page works without it.
 * - The answers on this page are kept in this tab (sessionStorage) until the server has
 *   accepted the page, and put back after a failed send or a Back.
 * - Offline, a send waits (with a message) and goes when the connection returns, with the
 *   same submission key, so the server never saves it twice.
 * - After errors, focus goes to their summary; the resume link gets a copy button.
 * Nothing leaves this tab except the form, to this site. */
(function () {
  "use strict";
  var PREFIX = "answers:";
  var PENDING = "answers-pending";
  var store = null;
  try {
    store = window.sessionStorage;
    store.setItem("answers-test", "1");
    store.removeItem("answers-test");
  } catch (e) {
    store = null; /* storage switched off: sending still waits for the connection */
  }

  function read(key) {
    try { return JSON.parse(store.getItem(key)); } catch (e) { return null; }
  }

  function clearAll() {
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && (key.indexOf(PREFIX) === 0 || key === PENDING)) store.removeItem(key);
    }
  }

  function fields(form) {
    var found = [];
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (el.name && el.name.indexOf("q-") === 0) found.push(el);
    }
    return found;
  }

  function snapshot(form) {
    var answers = [];
    fields(form).forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) answers.push([el.name, el.value]);
      } else if (el.value !== "") {
        answers.push([el.name, el.value]);
      }
    });
    var key = form.querySelector("input[name=idempotency_key]");
    return { answers: answers, key: key ? key.value : "" };
  }

  function restore(form, saved, withKey) {
    var given = {};
    saved.answers.forEach(function (pair) { given[pair[0] + "\u0000" + pair[1]] = true; });
    var texts = {};
    saved.answers.forEach(function (pair) { texts[pair[0]] = pair[1]; });
    fields(form).forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = !!given[el.name + "\u0000" + el.value];
      } else {
        el.value = Object.prototype.hasOwnProperty.call(texts, el.name) ? texts[el.name] : "";
      }
    });
    var key = form.querySelector("input[name=idempotency_key]");
    if (withKey && key && saved.key) key.value = saved.key;
  }

  function navigationType() {
    var entries = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation") : [];
    return entries.length ? entries[0].type : "navigate";
  }

  function keepAnswers(form) {
    var here = PREFIX + location.pathname;
    var pending = store.getItem(PENDING);
    if (pending && pending !== location.pathname) {
      /* The page sent from there was accepted: the server moved us on. */
      store.removeItem(PREFIX + pending);
    }
    store.removeItem(PENDING);
    var saved = read(here);
    if (saved && saved.answers) {
      /* Coming back after a send that never arrived (Back, reload): the same key too, so
       * that a send which did arrive is not saved twice. */
      restore(form, saved, pending === location.pathname && navigationType() !== "navigate");
    }
    var save = function () {
      try { store.setItem(here, JSON.stringify(snapshot(form))); } catch (e) { /* full */ }
    };
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", function () {
      save();
      store.setItem(PENDING, location.pathname);
    });
  }

  function holdWhileOffline(form, status) {
    var held = null;
    function show(message) { if (status) status.textContent = message || ""; }
    form.addEventListener("submit", function (event) {
      if (navigator.onLine !== false) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      held = event.submitter || null;
      show(status && status.getAttribute("data-offline"));
    }, true);
    window.addEventListener("offline", function () {
      show(status && status.getAttribute("data-offline"));
    });
    window.addEventListener("online", function () {
      if (!held) { show(""); return; }
      var button = held;
      held = null;
      show(status && status.getAttribute("data-sending"));
      if (form.requestSubmit) {
        form.requestSubmit(button);
      } else {
        var extra = document.createElement("input");
        extra.type = "hidden";
        extra.name = button.name;
        extra.value = button.value;
        form.appendChild(extra);
        form.submit();
      }
    });
  }

  function copyButton(button) {
    var link = document.getElementById(button.getAttribute("data-copy"));
    if (!link || !navigator.clipboard || !navigator.clipboard.writeText) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(link.href).then(function () {
        var done = document.getElementById(button.getAttribute("aria-describedby"));
        if (done) done.textContent = button.getAttribute("data-copied");
      }, function () { /* the browser refused: the link can still be selected */ });
    });
  }

  function start() {
    if (store && document.body.hasAttribute("data-sent")) clearAll();
    var summary = document.querySelector(".error-summary");
    if (summary && document.activeElement !== summary) summary.focus();
    var status = document.getElementById("connection");
    var forms = document.querySelectorAll("form[method=post]");
    for (var i = 0; i < forms.length; i++) {
      if (store && forms[i].hasAttribute("data-keep")) keepAnswers(forms[i]);
      /* "Start a new questionnaire" on a shared device: the last person's unsent answers go. */
      if (store && forms[i].hasAttribute("data-forget")) forms[i].addEventListener("submit", clearAll);
      holdWhileOffline(forms[i], status);
    }
    var copies = document.querySelectorAll("button[data-copy]");
    for (var j = 0; j < copies.length; j++) copyButton(copies[j]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
