// The product's name, in its two spellings.

/** As people read it: page titles, the dev-mode banner. */
export const PRODUCT_NAME = 'FalkorDB MCP Gateway';

/** The package and command name; also what the gateway calls itself to MCP clients, to the database and in its log. */
export const PRODUCT_ID = 'falkordb-mcp-gateway';
