/* The home page: search tabs, suggestions of establishments and territories, map of the régions.

   Tabs (WAI-ARIA tabs pattern): the two search forms are plain sections without JavaScript; here
   a tablist is put before them, arrows / Home / End move between tabs, the inactive panel is
   hidden.
   Suggestions (WAI-ARIA combobox with a listbox): /etablissement/autocomplete and
   /territoire/autocomplete; arrows move the active option, Enter or a click opens its page,
   Escape closes the list; Enter without an active option submits the form (/etablissement?q=).
   Map: the contours of the régions (/territoire/contours.geojson), a click opens the région's
   page. It is hidden from assistive technologies: the list of régions beside it is the same
   entry for the keyboard and screen readers.
   Names come from published files: they reach the page as text only (dom.js). */
(function () {
  "use strict";
  var dom = window.ecartoDom;

  /* ------------------------------------------------------------------ tabs */

  function initTabs(root) {
    var panels = Array.prototype.slice.call(root.querySelectorAll(".ecarto-home-panel"));
    if (panels.length < 2) { return; }
    var list = dom.el("div", { className: "ecarto-home-tabs", attrs: { role: "tablist", "aria-label": root.dataset.label || "" } });
    var tabs = panels.map(function (panel, i) {
      var tab = dom.el("button", {
        className: "ecarto-home-tab", text: panel.getAttribute("data-tab-label"),
        attrs: { type: "button", role: "tab", id: panel.id + "-onglet", "aria-controls": panel.id }
      });
      tab.addEventListener("click", function () { select(i, false); });
      tab.addEventListener("keydown", function (ev) {
        var next = null;
        if (ev.key === "ArrowRight") { next = (i + 1) % tabs.length; }
        if (ev.key === "ArrowLeft") { next = (i - 1 + tabs.length) % tabs.length; }
        if (ev.key === "Home") { next = 0; }
        if (ev.key === "End") { next = tabs.length - 1; }
        if (next !== null) { ev.preventDefault(); select(next, true); }
      });
      list.appendChild(tab);
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      panel.classList.add("ecarto-home-panel-tabbed");
      return tab;
    });

    function select(index, focus) {
      tabs.forEach(function (tab, i) {
        var on = i === index;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.setAttribute("tabindex", on ? "0" : "-1");
        panels[i].hidden = !on;
      });
      if (focus) { tabs[index].focus(); }
    }

    root.insertBefore(list, root.firstChild);
    select(0, false);
  }

  /* ------------------------------------------------------------------ suggestions */

  function initSearch(input) {
    var box = document.getElementById("home-q-suggestions");
    var status = document.getElementById("home-q-statut");
    var options = [];
    var active = -1;
    var timer = null;
    var seq = 0;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", box.id);
    box.setAttribute("role", "listbox");
    box.setAttribute("aria-label", input.dataset.labelSuggestions || "");

    function close() {
      box.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      options.forEach(function (opt, i) { opt.el.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index < 0) { input.removeAttribute("aria-activedescendant"); return; }
      input.setAttribute("aria-activedescendant", options[index].el.id);
      options[index].el.scrollIntoView({ block: "nearest" });
    }

    function group(label, items, describe) {
      if (!items.length) { return null; }
      var node = dom.el("div", { className: "ecarto-home-suggestion-group", attrs: { role: "group", "aria-label": label, "data-label": label } });
      items.forEach(function (item) {
        var opt = dom.el("div", {
          className: "ecarto-home-suggestion", text: describe(item),
          attrs: { role: "option", id: "home-q-option-" + options.length, "aria-selected": "false" }
        });
        var url = item.url || item.chemin;
        opt.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
        opt.addEventListener("click", function () { dom.go(url); });
        options.push({ el: opt, url: url });
        node.appendChild(opt);
      });
      return node;
    }

    function show(etablissements, territoires) {
      dom.clear(box);
      options = [];
      active = -1;
      var groups = [
        group(input.dataset.labelEtablissements, etablissements, function (e) {
          return (e.nom || e.uai) + " — " + (e.commune || "") + " (" + e.uai + ")";
        }),
        group(input.dataset.labelTerritoires, territoires, function (t) { return t.libelle || t.nom; })
      ];
      groups.forEach(function (g) { if (g) { box.appendChild(g); } });
      if (!options.length) {
        close();
        status.textContent = input.dataset.statusNone;
        return;
      }
      box.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = input.dataset.statusSome.replace("{n}", String(options.length));
    }

    function fetchJson(url) {
      return fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .catch(function () { return []; });
    }

    function suggest() {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      var mine = ++seq;
      var query = "?q=" + encodeURIComponent(q);
      Promise.all([fetchJson(input.dataset.etablissements + query), fetchJson(input.dataset.territoires + query)])
        .then(function (res) {
          if (mine !== seq) { return; }          // a later keystroke already asked again
          show(Array.isArray(res[0]) ? res[0] : [], Array.isArray(res[1]) ? res[1] : []);
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 200);
    });
    input.addEventListener("keydown", function (ev) {
      var open = !box.hidden && options.length;
      if (ev.key === "ArrowDown" && open) { ev.preventDefault(); setActive((active + 1) % options.length); }
      else if (ev.key === "ArrowUp" && open) { ev.preventDefault(); setActive(active <= 0 ? options.length - 1 : active - 1); }
      else if (ev.key === "Escape" && open) { ev.preventDefault(); close(); }
      else if (ev.key === "Enter" && open && active >= 0) { ev.preventDefault(); dom.go(options[active].url); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  /* ------------------------------------------------------------------ map */

  var FILL = "#c9d0ea";
  var FILL_HOVER = "#1b4f72";

  function initMap(el) {
    if (typeof L === "undefined") { return; }
    var map = L.map(el, {
      zoomControl: false, attributionControl: false, keyboard: false, dragging: false, scrollWheelZoom: false,
      doubleClickZoom: false, boxZoom: false, touchZoom: false, zoomSnap: 0.1
    });
    map.setView([46.6, 2.4], 5);
    fetch(el.dataset.contours).then(function (r) { return r.json(); }).then(function (shapes) {
      var frames = L.geoJSON({ type: "FeatureCollection", features: shapes.cadres || [] }, {
        interactive: false, style: { color: "#666", weight: 1, dashArray: "4 3", fill: false }
      }).addTo(map);
      var layer = L.geoJSON(shapes, {
        style: function () {
          return { className: "ecarto-home-region", color: "#ffffff", weight: 1, fillColor: FILL, fillOpacity: 1 };
        },
        onEachFeature: function (feature, shape) {
          var props = feature.properties;
          shape.bindTooltip(function () { return dom.textNode(props.nom); }, { sticky: true });
          shape.on("click", function () { dom.go(props.chemin); });
          shape.on("mouseover", function () { shape.setStyle({ fillColor: FILL_HOVER }); });
          shape.on("mouseout", function () { shape.setStyle({ fillColor: FILL }); });
          shape.on("add", function () {
            var path = shape.getElement();
            if (path) { path.setAttribute("data-code", props.code); }
          });
        }
      }).addTo(map);
      var bounds = layer.getBounds();
      if (frames.getLayers().length) { bounds.extend(frames.getBounds()); }
      var fit = function () {
        map.invalidateSize();
        if (bounds.isValid()) { map.fitBounds(bounds, { padding: [6, 6] }); }
      };
      fit();
      if (window.ResizeObserver) { new ResizeObserver(fit).observe(el); }   // the columns settle after the fonts
      el.setAttribute("data-map-ready", "true");
    });
  }

  document.querySelectorAll("[data-ecarto-tabs]").forEach(initTabs);
  document.querySelectorAll("[data-ecarto-home-search]").forEach(initSearch);
  document.querySelectorAll("[data-ecarto-home-map]").forEach(initMap);
})();
