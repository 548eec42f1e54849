"""What every service uses: database, events, encryption, mail, files, errors."""
