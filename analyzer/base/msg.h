/* The analyzer's one voice: every user-facing message goes through here, prefixed "lockwatch: ". */
#ifndef LW_MSG_H
#define LW_MSG_H

/* Prints "lockwatch: MESSAGE" on stderr. */
void lw_msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "lockwatch: warning: MESSAGE" on stderr. */
void lw_msg_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "lockwatch: MESSAGE" and "Try 'lockwatch --help'." on stderr (usage errors). */
void lw_msg_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
