/* The citizen portal's small behaviours (CSP-safe: a static file, no inline handlers).
 *
 *   #id_township / #id_village   the village list shows only the villages of the chosen township
 *   [data-error-summary]         focused when the page comes back with errors, so screen readers read it
 *   form submit                  the submit button is disabled while the form is sent (no double submit)
 */
(function () {
  "use strict";

  function filterVillages() {
    var township = document.getElementById("id_township");
    var village = document.getElementById("id_village");
    if (!township || !village) {
      return;
    }
    var chosen = township.options[township.selectedIndex];
    var name = chosen && chosen.value ? chosen.textContent : "";
    var groups = village.querySelectorAll("optgroup");
    Array.prototype.forEach.call(groups, function (group) {
      var show = !name || group.label === name;
      group.hidden = !show;
      group.disabled = !show;
    });
    var selected = village.options[village.selectedIndex];
    if (selected && selected.parentNode.tagName === "OPTGROUP" && selected.parentNode.disabled) {
      village.value = "";
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "id_township") {
      filterVillages();
    }
  });

  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[type=submit]");
    if (button && !event.defaultPrevented) {
      window.setTimeout(function () {
        button.disabled = true;
        button.textContent = "正在提交…";
      }, 0);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    filterVillages();
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  });
})();
