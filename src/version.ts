export const TOOL_NAME = 'initrd-wizard';
export const TOOL_VERSION = '0.1.0';
export const TOOL_ID = `${TOOL_NAME} ${TOOL_VERSION}`;
