"""Documents of a case: issuing and correcting, the archive export, ledgers, handovers, retention."""
