#!/bin/sh
# An encrypted backup of surveyapp's database (docs/operations.md, step 9).
#
# `surveyapp db backup` writes a plain backup into a private temporary folder; age encrypts
# it to the public keys in $SURVEYAPP_BACKUP_RECIPIENTS (whoever holds a private key can
# restore; the server holds none) into $SURVEYAPP_BACKUP_DIR, readable by its owner only.
# Backups older than $SURVEYAPP_BACKUP_KEEP_DAYS days are deleted. Run by
# surveyapp-backup.service with the settings of /etc/surveyapp/env.
set -eu
umask 077

dir=${SURVEYAPP_BACKUP_DIR:?folder for the encrypted backups}
recipients=${SURVEYAPP_BACKUP_RECIPIENTS:?file with the age public keys to encrypt to}
keep_days=${SURVEYAPP_BACKUP_KEEP_DAYS:-35}

name="surveyapp-$(date -u +%Y%m%dT%H%M%SZ).dump"
work=$(mktemp -d)
trap 'rm -rf "$work" "$dir/.$name.age.partial"' EXIT INT TERM

surveyapp db backup "$work/$name" >/dev/null
# Encrypted straight into $dir under a hidden name, renamed once complete: a file named
# surveyapp-*.dump.age is always a whole backup. The plain one never leaves $work.
age --encrypt --recipients-file "$recipients" --output "$dir/.$name.age.partial" "$work/$name"
rm -f "$work/$name"
mv "$dir/.$name.age.partial" "$dir/$name.age"
find "$dir" -maxdepth 1 -name 'surveyapp-*.dump.age' -type f -mtime +"$keep_days" -delete
echo "Encrypted backup $dir/$name.age ($(wc -c <"$dir/$name.age") bytes)."
