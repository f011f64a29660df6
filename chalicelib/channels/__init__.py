"""Ways a message leaves the system: email (SES), SMS and WhatsApp."""
