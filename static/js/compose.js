// Composing page: reorder picks by drag and drop, or with the Up/Down buttons
// without reloading (so unsaved text in the issue form stays). Without
// JavaScript the Up/Down buttons still work as plain form submissions (which
// save the typed text first). Buttons with data-confirm ask before acting.
(function () {
  "use strict";

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function items(list) {
    return Array.prototype.slice.call(list.querySelectorAll("li[data-pick]"));
  }

  function renumber(list) {
    items(list).forEach(function (li, index, all) {
      li.querySelector(".compose-position").textContent = index + 1 + ".";
      li.querySelector(".compose-up").disabled = index === 0;
      li.querySelector(".compose-down").disabled = index === all.length - 1;
    });
  }

  function announce(list, text) {
    var status = document.getElementById("compose-live");
    if (!status) {
      status = document.createElement("p");
      status.id = "compose-live";
      status.setAttribute("role", "status");
      status.className = "compose-live";
      list.parentNode.insertBefore(status, list);
    }
    status.textContent = text;
  }

  function save(list) {
    var order = items(list).map(function (li) { return li.dataset.pick; });
    var body = new URLSearchParams({ order: order.join(",") });
    return fetch(list.dataset.reorderUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) { throw new Error(data.error || "The new order was not saved."); }
          announce(list, "Order saved.");
        });
      })
      .catch(function (error) { announce(list, error.message + " Reload the page to see the saved order."); });
  }

  function setUp(list) {
    var dragged = null;
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("li[data-pick]");
      if (!dragged) { return; }
      dragged.classList.add("compose-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.dataset.pick);
    });
    list.addEventListener("dragover", function (event) {
      var over = event.target.closest("li[data-pick]");
      if (!dragged || !over || over === dragged) { return; }
      event.preventDefault();
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", function (event) { event.preventDefault(); });
    list.addEventListener("dragend", function () {
      if (!dragged) { return; }
      dragged.classList.remove("compose-dragging");
      dragged = null;
      renumber(list);
      save(list);
    });
    list.addEventListener("click", function (event) {
      var button = event.target.closest(".compose-up, .compose-down");
      if (!button) { return; }
      event.preventDefault();
      var li = button.closest("li[data-pick]");
      if (button.classList.contains("compose-up") && li.previousElementSibling) {
        list.insertBefore(li, li.previousElementSibling);
      } else if (button.classList.contains("compose-down") && li.nextElementSibling) {
        list.insertBefore(li.nextElementSibling, li);
      }
      renumber(list);
      // Keep the keyboard where it was: on the same button of the moved pick.
      (button.disabled ? li.querySelector(".compose-up:not([disabled]), .compose-down:not([disabled])") : button).focus();
      save(list);
    });
  }

  // Buttons that publish, unpublish or overwrite text ask first (data-confirm holds the question).
  // In the capture phase, so that a refusal stops the submission before anything else sees the click.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    var list = document.getElementById("picks");
    if (list && list.dataset.reorderUrl) { setUp(list); }
  });
})();
