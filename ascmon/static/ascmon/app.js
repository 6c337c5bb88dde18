// ascmon's page behaviour, with htmx: nothing here is needed for the pages to work without JavaScript.
(function () {
  "use strict";
  var KEEP = "ascmon-keep:";

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrfmiddlewaretoken" && el.type !== "submit" && el.type !== "button";
    });
  }

  // A form marked data-keep-input keeps what was typed until the server has answered it: when a session
  // ran out (the answer sends the browser to log in) the input comes back on the page afterwards.
  function stash(form) {
    var values = fields(form).filter(function (el) {
      return (el.type !== "checkbox" && el.type !== "radio") || el.checked;
    }).map(function (el) { return [el.name, el.value]; });
    try { sessionStorage.setItem(KEEP + form.getAttribute("action"), JSON.stringify(values)); } catch (e) { /* private mode */ }
  }

  function restore(form) {
    var key = KEEP + form.getAttribute("action"), saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(key) || "null"); sessionStorage.removeItem(key); } catch (e) { return; }
    if (!saved || !saved.length) return;
    fields(form).forEach(function (el) {
      var mine = saved.filter(function (pair) { return pair[0] === el.name; }).map(function (pair) { return pair[1]; });
      if (el.type === "checkbox" || el.type === "radio") el.checked = mine.indexOf(el.value) !== -1;
      else if (mine.length) el.value = mine[0];
    });
    var note = document.createElement("p");
    note.className = "notice";
    note.setAttribute("role", "status");
    note.textContent = "What you entered before signing in again is back: check it and send it again.";
    form.insertBefore(note, form.firstChild);
  }

  // requestConfig.elt is the element that sent the request, even once a swap has taken it out of the
  // page (htmx then announces the end of the request on an ancestor still in it).
  function keptForm(event) {
    var elt = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    return elt && elt.closest ? elt.closest("form[data-keep-input]") : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = keptForm(event);
    if (form && event.detail.requestConfig && event.detail.requestConfig.verb !== "get") stash(form);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr, form = keptForm(event);
    if (!form || !xhr || xhr.getResponseHeader("HX-Redirect")) return;
    if ((xhr.status >= 200 && xhr.status < 300) || xhr.status === 422) {
      sessionStorage.removeItem(KEEP + form.getAttribute("action"));
    }
  });
  // After a form comes back with errors, the first field in error gets the focus.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.xhr || event.detail.xhr.status !== 422) return;
    var invalid = document.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  });

  // Filter forms (data-restore-from-url) show what the URL filters on after Back and Forward (htmx's
  // history snapshot keeps the table but not the menus' chosen values) and after a pivot link in the
  // table changed the URL. The field being typed in is left alone.
  function fromUrl(form) {
    var params = new URLSearchParams(location.search);
    fields(form).forEach(function (el) {
      if (el === document.activeElement) return;
      if (el.type === "checkbox") el.checked = params.getAll(el.name).indexOf(el.value || "on") !== -1;
      else if (el.getAttribute("form") === null || el.type !== "hidden") el.value = params.get(el.name) || "";
    });
  }
  function syncForms() {
    document.querySelectorAll("form[data-restore-from-url]").forEach(fromUrl);
  }
  document.addEventListener("htmx:historyRestore", syncForms);
  document.addEventListener("htmx:pushedIntoHistory", syncForms);
  window.addEventListener("pageshow", syncForms);

  // "Select every alert on this page".
  document.addEventListener("change", function (event) {
    var name = event.target.getAttribute && event.target.getAttribute("data-select-all");
    if (!name) return;
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  });

  // "Copy the script": the text of the element the button names, to the clipboard.
  document.addEventListener("click", function (event) {
    var id = event.target.getAttribute && event.target.getAttribute("data-copy");
    var source = id && document.getElementById(id);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent).then(function () {
      event.target.textContent = "Copied";
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-keep-input]").forEach(restore);
  });
})();
