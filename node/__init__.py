"""KoproGo's local-first core: domain rules, CRDT documents, encrypted local
storage, services and the ``koprogo-node`` command line. No Qt here."""
