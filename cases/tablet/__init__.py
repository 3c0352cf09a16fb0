"""The village tablet: an installable offline app for village assistants.

Drafts made without signal are kept encrypted on the device and sent here when the network
returns, each under a key the device chose (a retry creates nothing twice) and with the
version of the household it was based on (a household changed meanwhile is a conflict, shown
to the assistant, never overwritten). Applicants sign on the glass; the server stamps every
time itself and keeps the device's clock only as a note.
"""
