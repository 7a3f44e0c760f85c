"""Support obligations: business calendars, ticket events, reaction and resolution deadlines."""
