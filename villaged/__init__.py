"""villaged: keeps a professional's mentorship village warm.

It reads mail and calendar to learn when the owner last had real contact
with each person, flags relationships going cold, and writes (never sends)
check-in drafts for the owner to review.
"""

__version__ = "0.1.0"
