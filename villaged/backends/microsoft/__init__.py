"""Microsoft 365 (Outlook mail and calendar through Microsoft Graph): ``[backend] kind = "microsoft"``."""
