/* Territory maps (Leaflet, bundled): a choropleth of the children territories for a chosen
   indicator, or the establishments of a département / commune as points.

   Data: /territoire/contours.geojson (shapes, overseas insets on a map of France),
   /territoire/carte.json (values and legend classes), /territoire/etablissements.json (points).
   Accessibility: every shape is focusable (Tab), announces its name, value and n.c. share,
   opens its territory with Enter; the values are also given as a table below the map.
   Names, labels and units come from published files: they reach the page as text only (dom.js:
   tooltips, legends and the table are built node by node, never from HTML strings). */
(function () {
  "use strict";
  var dom = window.ecartoDom;
  var PALETTE = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
  var NC_FILL = "url(#ecarto-hatch)";
  var TYPE_COLOURS = { ecole: "#1f8d49", college: "#1b4f72", lycee: "#c9191e", autre: "#666666" };
  var TYPE_LABELS = { ecole: "École", college: "Collège", lycee: "Lycée", autre: "Autre" };

  function fmt(value) {
    if (value === null || value === undefined) { return "n.c."; }
    return Number(value).toLocaleString("fr-FR", { maximumFractionDigits: 2 });
  }

  function classOf(value, classes) {
    if (value === null || value === undefined) { return -1; }
    for (var i = 0; i < classes.length; i++) { if (value <= classes[i]) { return i; } }
    return classes.length - 1;
  }

  function colours(n) {
    if (n >= PALETTE.length) { return PALETTE; }
    var step = (PALETTE.length - 1) / Math.max(n - 1, 1), out = [];
    for (var i = 0; i < n; i++) { out.push(PALETTE[Math.round(i * step)]); }
    return out;
  }

  function addHatch(map) {
    var svg = map.getPanes().overlayPane.querySelector("svg");
    if (!svg || svg.querySelector("#ecarto-hatch")) { return; }
    var ns = "http://www.w3.org/2000/svg";
    var defs = document.createElementNS(ns, "defs");
    var pattern = document.createElementNS(ns, "pattern");
    pattern.setAttribute("id", "ecarto-hatch");
    pattern.setAttribute("patternUnits", "userSpaceOnUse");
    pattern.setAttribute("width", "6"); pattern.setAttribute("height", "6");
    pattern.setAttribute("patternTransform", "rotate(45)");
    var bg = document.createElementNS(ns, "rect");
    bg.setAttribute("width", "6"); bg.setAttribute("height", "6"); bg.setAttribute("fill", "#eeeeee");
    var line = document.createElementNS(ns, "line");
    line.setAttribute("x1", "0"); line.setAttribute("y1", "0"); line.setAttribute("x2", "0"); line.setAttribute("y2", "6");
    line.setAttribute("stroke", "#929292"); line.setAttribute("stroke-width", "2");
    pattern.appendChild(bg); pattern.appendChild(line); defs.appendChild(pattern);
    svg.insertBefore(defs, svg.firstChild);
  }

  function swatch(colour, round) {
    return dom.el("span", { className: "ecarto-swatch" + (round ? " ecarto-swatch-round" : ""), style: { background: colour } });
  }

  function nc(text) {
    return dom.el("li", {}, [dom.el("span", { className: "ecarto-swatch ecarto-swatch-nc" }), text]);
  }

  function legendChoropleth(legend, data, palette) {
    var unit = data.serie.unite ? " " + data.serie.unite : "";
    var items = [];
    var lower = null;
    data.classes.forEach(function (upper, i) {
      var label = lower === null ? "≤ " + fmt(upper) : "> " + fmt(lower) + " à " + fmt(upper);
      if (data.classes.length <= 5 && data.classes.every(function (c) { return c === Math.round(c); }) && lower === null && data.classes.length === 1) { label = fmt(upper); }
      items.push(dom.el("li", {}, [swatch(palette[i]), label + unit]));
      lower = upper;
    });
    items.push(nc("n.c. (aucune valeur ou couverture insuffisante)"));
    dom.clear(legend);
    legend.appendChild(dom.el("h3", { className: "ecarto-legend-title",
      text: data.serie.libelle + (unit ? " (" + data.serie.unite + ")" : "") }));
    legend.appendChild(dom.el("p", { className: "small", text: data.dim_libelle + " — " + data.serie.source.dataset_title +
      (data.periode ? ", " + data.periode : (data.serie.millesime ? ", " + data.serie.millesime : "")) }));
    legend.appendChild(dom.el("ol", { className: "ecarto-legend-classes" }, items));
  }

  function legendPoints(legend, counts) {
    var items = [];
    Object.keys(TYPE_COLOURS).forEach(function (k) {
      if (!counts[k]) { return; }
      items.push(dom.el("li", {}, [swatch(TYPE_COLOURS[k], true), TYPE_LABELS[k] + " (" + counts[k] + ")"]));
    });
    dom.clear(legend);
    legend.appendChild(dom.el("h3", { className: "ecarto-legend-title", text: "Établissements" }));
    legend.appendChild(dom.el("ol", { className: "ecarto-legend-classes" }, items));
  }

  function legendShapesOnly(legend) {
    dom.clear(legend);
    legend.appendChild(dom.el("p", { text: "Aucun indicateur chargé pour ce territoire : contours seuls." }));
    legend.appendChild(dom.el("ol", { className: "ecarto-legend-classes" }, [nc("n.c.")]));
  }

  function tableRow(t, unit) {
    return dom.el("tr", {}, [
      dom.el("th", { attrs: { scope: "row" } }, [dom.el("a", { href: t.chemin, text: t.nom })]),
      dom.el("td", { text: t.valeur === null ? (t.libelle_nc || "n.c.") : fmt(t.valeur) + (unit ? " " + unit : "") }),
      dom.el("td", { text: t.taux_nc === null || t.taux_nc === undefined ? "—" : Math.round(t.taux_nc * 100) + " %" })
    ]);
  }

  function describe(props, item, unit) {
    if (item && item.valeur === null && item.libelle_nc) { return props.nom + " : " + item.libelle_nc; }
    if (!item || item.valeur === null) { return props.nom + " : n.c." + (item && item.taux_nc === 1 ? " (aucune valeur)" : ""); }
    var text = props.nom + " : " + fmt(item.valeur) + (unit ? " " + unit : "");
    if (item.taux_nc !== null && item.taux_nc !== undefined) { text += " (n.c. " + Math.round(item.taux_nc * 100) + " %)"; }
    return text;
  }

  function Choropleth(map, el, controls) {
    this.map = map; this.el = el; this.controls = controls;
    this.layer = null; this.frames = null; this.shapes = null; this.shapesFor = null;
  }

  Choropleth.prototype.params = function () {
    var get = function (name, fallback) {
      var field = document.querySelector("[data-ecarto-map-controls] [name=" + name + "]");
      return field && field.value ? field.value : fallback;
    };
    return { serie: get("serie", ""), enfants: get("enfants", this.el.dataset.enfants), dim: get("dim", "ensemble") };
  };

  Choropleth.prototype.load = function () {
    var self = this, p = this.params();
    var base = "niveau=" + encodeURIComponent(this.el.dataset.niveau) + "&code=" + encodeURIComponent(this.el.dataset.code) +
      "&enfants=" + encodeURIComponent(p.enfants);
    var shapes = this.shapesFor === p.enfants ? Promise.resolve(this.shapes) :
      fetch("/territoire/contours.geojson?" + base).then(function (r) { return r.json(); });
    var values = p.serie ? fetch("/territoire/carte.json?" + base + "&serie=" + encodeURIComponent(p.serie) + "&dim=" + encodeURIComponent(p.dim))
      .then(function (r) { return r.ok ? r.json() : null; }) : Promise.resolve(null);
    return Promise.all([shapes, values]).then(function (res) {
      self.shapes = res[0]; self.shapesFor = p.enfants;
      self.draw(res[0], res[1]);
    });
  };

  Choropleth.prototype.draw = function (shapes, data) {
    var self = this, map = this.map;
    if (this.layer) { map.removeLayer(this.layer); }
    if (this.frames) { map.removeLayer(this.frames); }
    var byCode = {};
    var classes = data ? data.classes : [];
    var palette = colours(classes.length);
    if (data) { data.territoires.forEach(function (t) { byCode[t.code] = t; }); }
    var unit = data && data.serie.unite ? data.serie.unite : "";
    this.frames = L.geoJSON({ type: "FeatureCollection", features: shapes.cadres || [] }, {
      interactive: false, style: { color: "#666", weight: 1, dashArray: "4 3", fill: false }
    }).addTo(map);
    this.layer = L.geoJSON(shapes, {
      style: function (feature) {
        var item = byCode[feature.properties.code];
        var cls = data ? classOf(item ? item.valeur : null, classes) : -1;
        return { className: "ecarto-territoire-shape", color: "#ffffff", weight: 1, fillOpacity: 1,
                 fillColor: cls < 0 ? NC_FILL : palette[cls] };
      },
      onEachFeature: function (feature, layer) {
        var item = byCode[feature.properties.code];
        var label = describe(feature.properties, data ? item : null, unit) + (feature.properties.encart ? " (encart)" : "");
        layer.bindTooltip(function () { return dom.textNode(label); }, { sticky: true });
        layer.on("click", function () { dom.go(feature.properties.chemin); });
        layer.on("add", function () {
          var path = layer.getElement();
          if (!path) { return; }
          path.setAttribute("tabindex", "0");
          path.setAttribute("role", "link");
          path.setAttribute("aria-label", label);
          path.setAttribute("data-code", feature.properties.code);
          path.addEventListener("focus", function () { layer.openTooltip(layer.getBounds().getCenter()); layer.setStyle({ weight: 3, color: "#161616" }); });
          path.addEventListener("blur", function () { layer.closeTooltip(); layer.setStyle({ weight: 1, color: "#ffffff" }); });
          path.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { dom.go(feature.properties.chemin); } });
        });
      }
    }).addTo(map);
    addHatch(map);
    if (!this.fitted) {
      var bounds = this.layer.getBounds();
      if (this.frames.getLayers().length) { bounds.extend(this.frames.getBounds()); }
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8] }); }
      this.fitted = true;
    }
    var legend = document.querySelector("[data-ecarto-legend]");
    if (legend && data) { legendChoropleth(legend, data, palette); }
    else if (legend) { legendShapesOnly(legend); }
    var note = document.querySelector("[data-ecarto-map-note]");
    if (note && shapes.sans_contour && shapes.sans_contour.length) {
      note.textContent = "Sans contour sur la carte : " + shapes.sans_contour.map(function (t) { return t.nom; }).join(", ") + ".";
    }
    var table = document.querySelector("[data-ecarto-map-table] tbody");
    if (table && data) {
      dom.clear(table);
      data.territoires.slice().sort(function (a, b) { return a.nom.localeCompare(b.nom, "fr"); }).forEach(function (t) {
        table.appendChild(tableRow(t, unit));
      });
    }
    this.el.setAttribute("data-map-ready", "true");
  };

  function points(map, el) {
    var outlineEl = document.getElementById("ecarto-territoire-outline");
    var outline = null;
    if (outlineEl) {
      outline = L.geoJSON(JSON.parse(outlineEl.textContent), {
        interactive: false, style: { color: "#1b4f72", weight: 2, fill: true, fillColor: "#eaf0f4", fillOpacity: 0.6 }
      }).addTo(map);
    }
    var url = "/territoire/etablissements.json?niveau=" + encodeURIComponent(el.dataset.niveau) + "&code=" + encodeURIComponent(el.dataset.code);
    return fetch(url).then(function (r) { return r.json(); }).then(function (data) {
      var group = L.featureGroup(), counts = {};
      data.etablissements.forEach(function (e) {
        var kind = TYPE_COLOURS[e.type] ? e.type : "autre";
        counts[kind] = (counts[kind] || 0) + 1;
        var marker = L.circleMarker([e.latitude, e.longitude], {
          radius: 4, weight: 1, color: "#ffffff", fillColor: TYPE_COLOURS[kind], fillOpacity: 0.9, className: "ecarto-point"
        });
        var label = e.nom + " (" + e.uai + ")";
        marker.bindTooltip(function () { return dom.textNode(label); });
        marker.on("click", function () { dom.go(e.chemin); });
        group.addLayer(marker);
      });
      group.addTo(map);
      var bounds = group.getLayers().length ? group.getBounds() : (outline ? outline.getBounds() : null);
      if (outline && group.getLayers().length) { bounds = outline.getBounds().extend(group.getBounds()); }
      if (bounds && bounds.isValid()) { map.fitBounds(bounds, { padding: [8, 8] }); }
      else { map.setView([46.6, 2.4], 5); }
      var legend = document.querySelector("[data-ecarto-legend]");
      if (legend) { legendPoints(legend, counts); }
      el.setAttribute("data-points-count", String(data.etablissements.length));
      el.setAttribute("data-map-ready", "true");
    });
  }

  function init(el) {
    if (typeof L === "undefined") { return; }
    var controls = document.querySelector("[data-ecarto-map-controls]");
    if (controls) { controls.addEventListener("submit", function (ev) { ev.preventDefault(); }); }
    var map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.25, attributionControl: !!el.dataset.tiles });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);
    if (el.dataset.points === "true") { points(map, el); return; }
    var chor = new Choropleth(map, el);
    map.setView([46.6, 2.4], 5);
    chor.load();
    document.querySelectorAll("[data-ecarto-map-controls] select").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.name === "enfants") { chor.fitted = false; }
        chor.load();
      });
    });
  }

  document.querySelectorAll("[data-ecarto-territoire-map]").forEach(init);
})();
