"""What residents see: entry by invitation code or open link, the questionnaire, thanks."""
