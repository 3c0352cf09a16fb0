"""Pages open without sign-in: the public index, service guides and publicity notices."""
