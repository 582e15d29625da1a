// Keyboard triage for the queue and the shortlist. Without this script every
// row's buttons and the bulk form post normally and come back to the page.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var root = document.getElementById("triage");
    if (!root) return;
    var actionUrl = root.dataset.actionUrl;
    var status = document.getElementById("triage-status");
    var help = document.getElementById("triage-help");
    var rows = Array.prototype.slice.call(document.querySelectorAll(".triage-row"));
    var current = -1;
    var busy = false;

    function csrfToken() {
      var input = document.querySelector("input[name=csrfmiddlewaretoken]");
      if (input) return input.value;
      var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
      return match ? decodeURIComponent(match[1]) : "";
    }

    function say(text, isError) {
      if (!status) return;
      status.textContent = text;
      status.className = isError ? "triage-error" : "triage-ok";
    }

    function select(index) {
      if (!rows.length) return;
      index = Math.max(0, Math.min(rows.length - 1, index));
      if (current >= 0 && rows[current]) rows[current].classList.remove("triage-current");
      current = index;
      var row = rows[current];
      row.classList.add("triage-current");
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: "nearest" });
    }

    function rowFor(id) {
      return document.getElementById("paper-" + id);
    }

    function redraw(paper) {
      var row = rowFor(paper.id);
      if (!row) return;
      row.className = row.className.replace(/\bstate-\S+/, "state-" + paper.state);
      row.dataset.state = paper.state;
      row.dataset.myVote = paper.my_vote;
      var state = row.querySelector("[data-role=state]");
      if (state) state.textContent = paper.state;
      var votes = row.querySelector("[data-role=votes]");
      if (votes) votes.textContent = "votes " + (paper.votes >= 0 ? "+" : "") + paper.votes;
      var notes = row.querySelector("[data-role=notes]");
      if (notes) {
        notes.textContent = "";
        paper.notes.forEach(function (note) {
          var li = document.createElement("li");
          var who = document.createElement("strong");
          who.textContent = note.by;
          li.appendChild(who);
          li.appendChild(document.createTextNode(": " + note.text));
          notes.appendChild(li);
        });
      }
    }

    function post(fields) {
      if (busy) return Promise.resolve(null);
      busy = true;
      var body = new FormData();
      Object.keys(fields).forEach(function (key) {
        var value = fields[key];
        if (Array.isArray(value)) value.forEach(function (v) { body.append(key, v); });
        else body.append(key, value);
      });
      return fetch(actionUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().catch(function () {
            return { ok: false, error: "The server answered " + response.status + "." };
          });
        })
        .then(function (data) {
          busy = false;
          if (!data.ok) {
            say(data.error || "That did not work.", true);
            return null;
          }
          (data.papers || []).forEach(redraw);
          say(data.message || "Done.");
          return data;
        })
        .catch(function () {
          busy = false;
          say("Network error: nothing changed.", true);
          return null;
        });
    }

    function currentId() {
      return current >= 0 && rows[current] ? rows[current].dataset.paper : null;
    }

    function act(action, extra) {
      var id = currentId();
      if (!id) return;
      var fields = Object.assign({ action: action, paper: id }, extra || {});
      post(fields).then(function (data) {
        if (data && (action === "shortlist" || action === "reject")) select(current + 1);
      });
    }

    // Buttons and the bulk form go through fetch too (the page stays where it is).
    root.addEventListener("submit", function (event) {
      var form = event.target;
      var submitter = event.submitter;
      if (!form.matches(".triage-actions, .triage-bulk")) return;
      event.preventDefault();
      var fields = {};
      new FormData(form).forEach(function (value, key) {
        if (key === "csrfmiddlewaretoken" || key === "next") return;
        if (key === "papers") (fields.papers = fields.papers || []).push(value);
        else fields[key] = value;
      });
      // FormData includes the row checkboxes tied to the bulk form by their form attribute.
      if (submitter && submitter.name) fields[submitter.name] = submitter.value;
      post(fields).then(function (data) {
        if (!data) return;
        if (form.id === "bulk") {
          document.querySelectorAll("input[name=papers]:checked").forEach(function (box) { box.checked = false; });
        }
        var note = form.querySelector("input[name=text]");
        if (note && fields.action === "note") note.value = "";
        if (data.pick_url) window.location.href = data.pick_url;
      });
    });

    rows.forEach(function (row, index) {
      row.addEventListener("click", function (event) {
        if (event.target.closest("a, button, input, summary, label")) return;
        select(index);
      });
    });

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      if (target.matches && target.matches("input, textarea, select")) {
        if (event.key === "Escape") target.blur();
        return;
      }
      var key = event.key;
      var handled = true;
      if (key === "j") select(current + 1);
      else if (key === "k") select(current - 1);
      else if (key === "s") act("shortlist");
      else if (key === "x") act("reject");
      else if (key === "u") {
        post({ action: "undo" }).then(function (data) {
          if (data && data.papers && data.papers.length) {
            var row = rowFor(data.papers[0].id);
            if (row) select(rows.indexOf(row));
          }
        });
      } else if (key === "o") {
        var row = rows[current];
        if (row) {
          var details = row.querySelector(".triage-abstract");
          details.open = !details.open;
        }
      } else if (key === "n") {
        if (currentId()) {
          var text = window.prompt("Note on this paper:");
          if (text && text.trim()) act("note", { text: text });
        }
      } else if (key === "v" || key === "V") {
        var mine = rows[current] ? parseInt(rows[current].dataset.myVote || "0", 10) : 0;
        var wanted = key === "v" ? 1 : -1;
        act("vote", { value: mine === wanted ? 0 : wanted });
      } else if (key === "/") {
        var search = document.getElementById("id_q");
        if (search) search.focus();
      } else if (key === "?") {
        if (help) {
          if (help.open) help.close();
          else help.showModal();
        }
      } else handled = false;
      if (handled) event.preventDefault();
    });

    if (rows.length) select(0);
  });
})();
