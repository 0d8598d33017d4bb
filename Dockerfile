# One image for every role: `npm run migrate`, `npm run start:api`, `npm run start:worker` or `npm start`.
FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY tsconfig.json ./
COPY drizzle ./drizzle
COPY src ./src
COPY bin ./bin
USER node
EXPOSE 3000
CMD ["npm", "start"]
