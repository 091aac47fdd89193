"""调度会 (scheduling meetings) and 督办单 (supervision orders): how the office meets and chases.

A sub-package of `ledgers` (the app that chases problems), laid out as an app is: `models`, `services`
(writes and transitions), `selectors` (reads), `documents` (the agenda in Word and PDF), `admin`, `api`,
`serializers`, `views`, `forms`, `demo`. `ledgers.models` imports the models, `ledgers.admin` the admin,
`ledgers.api` the routes, so Django and the URL map see them as the ledgers app's.
"""
