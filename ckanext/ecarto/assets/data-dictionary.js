/* Resource form: the data dictionary edited as a table of columns (name, label, role, unit,
   description) instead of raw JSON (templates/scheming/form_snippets/ecarto_data_dictionary.html).

   The JSON textarea stays the field that is submitted: every change of the table writes it again,
   in the shape the validator `ecarto_data_dictionary` (logic/validators.py) accepts — a list of
   {column, label, role, aggregation, unit, description, …}, or {"columns": [...], "layout": {...}}
   when the dictionary already had a layout. Keys the table does not show (type, indicator, layout)
   are kept. Role choices are the validation report's: "measure:sum" and "measure:mean" give
   role "measure" with that aggregation, "flag" gives aggregation "share".
   Without JavaScript, or when the JSON does not parse, the textarea is left as it is. */
(function () {
  var SHOWN = ['column', 'label', 'role', 'aggregation', 'unit', 'description'];
  var TEXT_KEYS = ['column', 'label', 'unit', 'description'];

  function roleChoice(entry) {
    if (entry.role === 'measure' && (entry.aggregation === 'sum' || entry.aggregation === 'mean')) {
      return 'measure:' + entry.aggregation;
    }
    return entry.role || '';
  }

  function applyRole(entry, choice) {
    delete entry.role;
    delete entry.aggregation;
    if (!choice) { return; }
    var parts = choice.split(':');
    entry.role = parts[0];
    if (parts[1]) {
      entry.aggregation = parts[1];
    } else if (parts[0] === 'flag') {
      entry.aggregation = 'share';
    }
  }

  function parse(text) {
    if (!text || !text.trim()) { return {columns: [], wrapper: null}; }
    var value = JSON.parse(text);
    if (Array.isArray(value)) { return {columns: value, wrapper: null}; }
    if (value && typeof value === 'object' && (value.columns === undefined || Array.isArray(value.columns))) {
      return {columns: value.columns || [], wrapper: value};
    }
    throw new Error('not a dictionary');
  }

  function Editor(box) {
    this.box = box;
    this.textarea = document.getElementById(box.getAttribute('data-ecarto-dictionary'));
    this.group = this.textarea.closest('.form-group') || this.textarea.parentNode;
    this.tbody = box.querySelector('tbody');
    this.rowTemplate = box.querySelector('template.ecarto-dictionary-row');
    this.error = box.nextElementSibling;
    this.wrapper = null;
    var self = this;
    box.querySelector('[data-action=add]').addEventListener('click', function () {
      var row = self.addRow({});
      row.querySelector('[data-key=column]').focus();
    });
    box.querySelector('[data-action=json]').addEventListener('click', function () { self.showJson(); });
    this.tbody.addEventListener('input', function () { self.write(); });
    this.tbody.addEventListener('change', function () { self.write(); });
    this.tbody.addEventListener('click', function (event) {
      var button = event.target.closest('[data-action=remove]');
      if (button) {
        button.closest('tr').remove();
        self.write();
      }
    });
  }

  Editor.prototype.load = function () {
    var parsed;
    try {
      parsed = parse(this.textarea.value);
    } catch (e) {
      return false;
    }
    this.wrapper = parsed.wrapper;
    this.tbody.textContent = '';
    var self = this;
    parsed.columns.forEach(function (entry) {
      self.addRow(entry && typeof entry === 'object' ? entry : {});
    });
    if (!parsed.columns.length) { this.addRow({}); }
    return true;
  };

  Editor.prototype.addRow = function (entry) {
    var row = this.rowTemplate.content.firstElementChild.cloneNode(true);
    row.ecartoEntry = entry;
    TEXT_KEYS.forEach(function (key) {
      row.querySelector('[data-key=' + key + ']').value = entry[key] === undefined ? '' : String(entry[key]);
    });
    var select = row.querySelector('[data-key=role]');
    var choice = roleChoice(entry);
    if (choice && !Array.prototype.some.call(select.options, function (o) { return o.value === choice; })) {
      var option = document.createElement('option');
      option.value = choice;
      option.textContent = choice;
      select.appendChild(option);
    }
    select.value = choice;
    this.tbody.appendChild(row);
    return row;
  };

  Editor.prototype.entries = function () {
    var result = [];
    this.tbody.querySelectorAll('tr').forEach(function (row) {
      var entry = {};
      var original = row.ecartoEntry || {};
      Object.keys(original).forEach(function (key) {
        if (SHOWN.indexOf(key) < 0) { entry[key] = original[key]; }
      });
      TEXT_KEYS.forEach(function (key) {
        var value = row.querySelector('[data-key=' + key + ']').value.trim();
        if (value) { entry[key] = value; }
      });
      var choice = row.querySelector('[data-key=role]').value;
      if (choice === roleChoice(original)) {
        if (original.role) { entry.role = original.role; }
        if (original.aggregation) { entry.aggregation = original.aggregation; }
      } else {
        applyRole(entry, choice);
      }
      if (entry.column) { result.push(entry); }
    });
    return result;
  };

  Editor.prototype.write = function () {
    var columns = this.entries();
    var value;
    if (this.wrapper) {
      value = Object.assign({}, this.wrapper, {columns: columns});
    } else {
      value = columns;
    }
    this.textarea.value = (!this.wrapper && !columns.length) ? '' : JSON.stringify(value);
  };

  Editor.prototype.showTable = function () {
    if (!this.load()) {
      this.error.textContent = this.box.getAttribute('data-parse-error');
      this.error.hidden = false;
      return;
    }
    this.error.hidden = true;
    this.group.hidden = true;
    this.box.hidden = false;
  };

  Editor.prototype.showJson = function () {
    this.write();
    this.box.hidden = true;
    this.group.hidden = false;
    this.textarea.focus();
  };

  function init() {
    document.querySelectorAll('.ecarto-dictionary[data-ecarto-dictionary]').forEach(function (box) {
      if (box.ecartoEditor) { return; }
      var textarea = document.getElementById(box.getAttribute('data-ecarto-dictionary'));
      if (!textarea) { return; }
      var editor = new Editor(box);
      box.ecartoEditor = editor;
      if (editor.load()) {
        editor.group.hidden = true;
        box.hidden = false;
      }
      // back from the JSON textarea to the table
      var back = document.createElement('button');
      back.type = 'button';
      back.className = 'btn btn-link';
      back.textContent = box.getAttribute('data-table-label');
      back.addEventListener('click', function () { editor.showTable(); });
      editor.group.appendChild(back);
    });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
