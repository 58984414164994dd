// Small, dependency-free helpers: toasts, copy buttons, add/remove rows in list inputs, a global progress bar.
(function () {
  "use strict";

  function toast(message, level) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "success");
    el.setAttribute("role", "status");
    var text = document.createElement("span");
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    el.appendChild(text);
    el.appendChild(close);
    // Never a pile: the newest three stay, older ones go.
    while (box.children.length >= 3) box.removeChild(box.firstElementChild);
    box.appendChild(el);
    schedule(el);
  }

  function schedule(el) {
    var level = el.className.indexOf("toast-error") >= 0 ? 9000 : 5000;
    setTimeout(function () { dismiss(el); }, level);
  }

  function dismiss(el) {
    el.classList.add("leaving");
    setTimeout(function () { el.remove(); }, 200);
  }

  document.addEventListener("toast", function (event) {
    var d = event.detail || {};
    toast(d.message || String(d.value || ""), d.level);
  });

  // After a failed submit the error summary takes focus, so keyboard and screen-reader users land on it (and
  // hear it: it is role=alert) instead of on <body>. Full page loads and HTMX swaps alike.
  // Forms without a summary (one or two fields) mark invalid fields aria-invalid: the first one takes focus.
  function focusErrorSummary() {
    var target = document.querySelector("[data-error-summary]") ||
      document.querySelector("main [aria-invalid='true']");
    if (target && document.activeElement !== target) target.focus();
  }

  // Phones: the sidebar folds into a "Menu" button above the page instead of pushing every page down.
  function setUpMenu() {
    var toggle = document.querySelector(".menu-toggle");
    var sidebar = toggle && toggle.closest(".sidebar");
    if (!toggle || !sidebar) return;
    toggle.hidden = false;
    sidebar.classList.add("foldable");
    toggle.addEventListener("click", function () {
      var open = sidebar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Times are rendered in the browser's time zone: the server reads this cookie (dashboard/middleware.py).
  // The sign-in page sets it, so it is there before the first dashboard page.
  function rememberTimeZone() {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    if (!zone || !/^[A-Za-z][A-Za-z0-9_+\-\/]{0,63}$/.test(zone)) return;
    var current = document.cookie.match(/(?:^|;\s*)tz=([^;]*)/);
    if (current && current[1] === zone) return;
    // Zone names only hold characters a cookie value may carry as they are ("Europe/Paris"): no encoding.
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
  }
  rememberTimeZone();

  // A search box with suggestions (<input list=...>) applies the filter when a suggestion is picked or the box is
  // cleared, not on every keystroke; typing only asks for suggestions.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-apply-on-pick")) return;
    var picked = !(event instanceof InputEvent) || event.inputType === "insertReplacementText";
    if (picked || input.value === "") input.dispatchEvent(new Event("change", {bubbles: true}));
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(schedule);
    setUpMenu();
    focusErrorSummary();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status === 422) focusErrorSummary();  // a failed submit, not any other swap
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;

    var close = target.closest(".toast-close");
    if (close) { dismiss(close.closest(".toast")); return; }

    var copy = target.closest("[data-copy]");
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-copy"));
      var value = source ? (source.value || source.textContent) : "";
      var done = function () {
        var label = copy.textContent;
        copy.textContent = "Copied";
        copy.classList.add("copied");
        setTimeout(function () { copy.textContent = label; copy.classList.remove("copied"); }, 1600);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(value).then(done, function () { select(source); });
      } else {
        select(source);
        try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
      }
      return;
    }

    var add = target.closest("[data-array-add]");
    if (add) {
      var list = document.getElementById(add.getAttribute("data-array-add"));
      var tpl = list && list.parentElement.querySelector("template");
      if (list && tpl) {
        var row = tpl.content.firstElementChild.cloneNode(true);
        list.appendChild(row);
        var input = row.querySelector("input, select");
        if (input) input.focus();
      }
      return;
    }

    var remove = target.closest("[data-array-remove]");
    if (remove) {
      var item = remove.closest(".array-item");
      var container = item && item.parentElement;
      if (item) item.remove();
      if (container) {
        var next = container.querySelector("input");
        if (next) next.focus();
        else {
          var addButton = container.parentElement.querySelector("[data-array-add]");
          if (addButton) addButton.focus();
        }
      }
    }
  });

  function select(el) {
    if (!el) return;
    if (el.select) { el.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  // Enter in a list input adds a new row instead of submitting the form.
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.key === "Enter" && t instanceof HTMLInputElement && t.closest(".array-item")) {
      event.preventDefault();
      var field = t.closest(".array-field");
      var addButton = field && field.querySelector("[data-array-add]");
      if (addButton) addButton.click();
    }
  });

  var pending = 0;
  document.addEventListener("htmx:beforeRequest", function () {
    pending += 1;
    document.body.classList.add("is-loading");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    pending = Math.max(0, pending - 1);
    if (!pending) document.body.classList.remove("is-loading");
    var xhr = event.detail && event.detail.xhr;
    if (event.detail && event.detail.failed && xhr && xhr.status !== 422) {
      var messages = {403: "You don't have permission to do that.", 404: "That no longer exists."};
      toast(messages[xhr.status] || "Something went wrong (HTTP " + xhr.status + "). Try again.", "error");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Patchbay is unreachable. Check your connection and try again.", "error");
  });
})();
