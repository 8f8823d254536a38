"""The e-mail gateway: received faxes to e-mail, printers and shares; e-mail to fax (T.37); receipts.

Pure cores: ``routing`` (where a received fax goes), ``t37`` (fax addresses),
``message`` (the mails), ``submission`` (reading an e-mail to fax), ``config``.
Adapters: ``outbox`` (the durable delivery table), ``delivery`` (SMTP, Maildir,
``lp``, shares), ``inbound`` (inbox -> outbox), ``gateway`` and ``submit`` (the
ESMTP listener and the jobs it queues), ``receipts``, ``status``, ``service`` (wiring).
"""
