"""Staff sign-in: argon2 password hashes, session cookie, sign-out."""
