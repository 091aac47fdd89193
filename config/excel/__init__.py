"""Excel import and export shared by every app.

- `values`: widgets for the values clerks type (amounts in 万元, dates, names, choices);
- `files`: hardening, reading a clerk's sheet, streaming writes, the template;
- `columns`: `column()`, a resource field headed by the model field's verbose name, with its widget;
- `loader`: `NaturalKeyLoader`, the file's rows among the user's rows by natural key;
- `resources`: `ExcelResource`, the base of every table (scope, all-or-nothing, history, bulk), `import_file`;
- `tables`: the registry (`register`, `get_table`) and whole-file export and template;
- `admin`: `ExcelAdminMixin` for ModelAdmins (preview then confirm, filtered export, template download).

To add a table, write an `ExcelResource` subclass in `<app>/resources.py` and decorate it with `@register`.
"""
