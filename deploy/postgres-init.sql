-- One database per service (CLEARWAY_DATABASE_URL names it by {service}).
CREATE DATABASE identity;
CREATE DATABASE rules;
CREATE DATABASE orders;
CREATE DATABASE monitor;
CREATE DATABASE common;
