/* yidi page behaviour: small, framework-free, CSP-safe (no eval, no inline handlers, no style attributes).
 * Every behaviour is event delegation on `document`, so it also works on content that htmx swaps in.
 * Markup contracts are documented in docs/ui.md.
 *
 *   data-confirm="确定要退回吗？"     on a <form>, a submit <button> or an <a>: ask before going on
 *   data-nav-toggle (aria-controls)   button that opens/closes the side navigation on narrow screens
 *   data-autosubmit                   on a <select>/<input> or on a <form>: submit the form when a value changes
 *   data-reveal="PANEL_ID"            button that shows the inline action panel with that id (reason form)
 *   data-reveal-close                 button inside a panel that hides it again
 *   data-formset="PREFIX"             container of a formset with <template data-formset-template>,
 *                                     [data-formset-rows], [data-formset-row], [data-formset-add], [data-formset-remove]
 */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  function closest(target, selector) {
    return target && target.closest ? target.closest(selector) : null;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests carry Django's CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // ---- confirm dialogs ----------------------------------------------------------------------
  // Capture phase: runs before htmx and before the browser submits, and can stop both.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("click", function (event) {
    var link = closest(event.target, "a[data-confirm]");
    if (link && !window.confirm(link.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // ---- mobile navigation ----------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var toggle = closest(event.target, "[data-nav-toggle]");
    if (!toggle) {
      return;
    }
    var nav = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!nav) {
      return;
    }
    var open = nav.classList.toggle("is-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var toggle = document.querySelector('[data-nav-toggle][aria-expanded="true"]');
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      if (nav) {
        nav.classList.remove("is-open");
      }
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });

  // ---- auto-submitting filters ------------------------------------------------------------------
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.form || !(field.hasAttribute("data-autosubmit") || field.form.hasAttribute("data-autosubmit"))) {
      return;
    }
    // Free-text inputs in an auto-submitting form still wait for Enter or the button.
    if (field.tagName === "INPUT" && /^(text|search|tel|email|number)$/.test(field.type) && !field.hasAttribute("data-autosubmit")) {
      return;
    }
    if (field.form.requestSubmit) {
      field.form.requestSubmit();
    } else {
      field.form.submit();
    }
  });

  // ---- inline action panels ("reason required") ----------------------------------------------------
  function setPanel(button, panel, open) {
    panel.hidden = !open;
    if (button) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    if (open) {
      var first = panel.querySelector("textarea, input:not([type=hidden]), select");
      if (first) {
        first.focus();
      }
    } else if (button) {
      button.focus();
    }
  }

  function revealButtonFor(panel) {
    if (!panel.id) {
      return null;
    }
    return document.querySelector('[data-reveal="' + panel.id + '"]');
  }

  document.addEventListener("click", function (event) {
    var button = closest(event.target, "[data-reveal]");
    if (button) {
      var panel = document.getElementById(button.getAttribute("data-reveal"));
      if (panel) {
        event.preventDefault();
        // One open panel at a time inside the same action group.
        var group = closest(button, "[data-reveal-group]");
        if (group && panel.hidden) {
          group.querySelectorAll("[data-reveal]").forEach(function (other) {
            var otherPanel = document.getElementById(other.getAttribute("data-reveal"));
            if (otherPanel && otherPanel !== panel && !otherPanel.hidden) {
              otherPanel.hidden = true;
              other.setAttribute("aria-expanded", "false");
            }
          });
        }
        setPanel(button, panel, panel.hidden);
      }
      return;
    }
    var close = closest(event.target, "[data-reveal-close]");
    var owner = close && closest(close, ".action-panel");
    if (owner) {
      event.preventDefault();
      setPanel(revealButtonFor(owner), owner, false);
    }
  });

  // Panels start hidden when JavaScript runs; without it they stay visible (see .no-js in app.css).
  function initPanels(scope) {
    scope.querySelectorAll("[data-reveal]").forEach(function (button) {
      var panel = document.getElementById(button.getAttribute("data-reveal"));
      if (panel) {
        // The server marks a panel data-reveal-open to show it again, e.g. after a validation error.
        var open = panel.hasAttribute("data-reveal-open");
        panel.hidden = !open;
        button.setAttribute("aria-expanded", open ? "true" : "false");
        button.setAttribute("aria-controls", panel.id);
      }
    });
  }

  // ---- formsets: add / remove rows from a <template> -----------------------------------------------
  function totalFormsInput(container) {
    var prefix = container.getAttribute("data-formset");
    return container.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
  }

  function updateFormsetButtons(container) {
    var maxInput = container.querySelector('input[name="' + container.getAttribute("data-formset") + '-MAX_NUM_FORMS"]');
    var add = container.querySelector("[data-formset-add]");
    if (!maxInput || !add) {
      return;
    }
    var visible = container.querySelectorAll("[data-formset-row]:not([hidden])").length;
    add.disabled = visible >= parseInt(maxInput.value, 10);
  }

  document.addEventListener("click", function (event) {
    var add = closest(event.target, "[data-formset-add]");
    if (add) {
      var container = closest(add, "[data-formset]");
      var template = container && container.querySelector("template[data-formset-template]");
      var total = container && totalFormsInput(container);
      if (!template || !total) {
        return;
      }
      event.preventDefault();
      var index = parseInt(total.value, 10);
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      var row = holder.firstElementChild;
      container.querySelector("[data-formset-rows]").appendChild(row);
      total.value = String(index + 1);
      initPanels(row);
      updateFormsetButtons(container);
      var first = row.querySelector("input:not([type=hidden]), select, textarea");
      if (first) {
        first.focus();
      }
      return;
    }
    var remove = closest(event.target, "[data-formset-remove]");
    if (remove) {
      var row2 = closest(remove, "[data-formset-row]");
      var container2 = closest(remove, "[data-formset]");
      if (!row2 || !container2) {
        return;
      }
      event.preventDefault();
      var deleteBox = row2.querySelector('input[type=checkbox][name$="-DELETE"]');
      if (deleteBox) {
        // Rows that exist on the server are marked for deletion and hidden; Django skips them.
        deleteBox.checked = true;
        row2.hidden = true;
      } else {
        // A row added in the browser is dropped; its index stays unused and Django ignores the empty form.
        row2.remove();
      }
      updateFormsetButtons(container2);
      var addButton = container2.querySelector("[data-formset-add]");
      if (addButton) {
        addButton.focus();
      }
    }
  });

  // "采用" buttons of the triage panel: <button data-fill="#id_primary_type" data-value="labour">
  // set a form field to the suggested value (the clerk still submits the form).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-fill]");
    if (!button) {
      return;
    }
    var field = document.querySelector(button.getAttribute("data-fill"));
    if (field) {
      field.value = button.getAttribute("data-value");
      field.dispatchEvent(new Event("change", { bubbles: true }));
      button.textContent = "已采用";
    }
  });

  function init(scope) {
    initPanels(scope);
    scope.querySelectorAll("[data-formset]").forEach(updateFormsetButtons);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
})();
