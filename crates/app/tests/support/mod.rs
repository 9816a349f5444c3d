pub mod smtpd;
