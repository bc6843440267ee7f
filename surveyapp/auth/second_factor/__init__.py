"""Second sign-in step for staff: TOTP codes from an authenticator app, and recovery codes.

Required for city admins (``ADMIN_SECOND_FACTOR``), optional for coordinators and
analysts. :mod:`totp` makes and checks codes and seals secrets, :mod:`services` changes
accounts, :mod:`state` keeps the half-signed-in state in the session, :mod:`views` has
the pages.
"""
